"""Internal auctions (內標): members bid on a held drop before it goes to the exchange.

An officer or the holder opens an auction on a drop that is held, unsold or in storage; the
drop moves to ``auction`` until the auction ends. Bids are checked by the pure rules of
:mod:`clanledger.domain.auction` (increment, eligibility, the clan's bidding limit) with
the auction row locked (``FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so two
bids at the same instant are serialised: each is accepted or refused with a reason, never
lost. At the end the highest bid (the earlier between equal ones) is booked as an internal
purchase at its price, with the same split as any internal purchase, in the same
transaction that closes the auction; with no bids the drop goes back to held.

Settling happens when anyone opens the auction after its end, and in
``flask --app clanledger settle-auctions``; it is idempotent, and two settlements at once
book once (the row lock, then the unique sale per drop).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clanledger.domain import auction as rules
from clanledger.domain.ledger import AccountKind
from clanledger.domain.messages import N_
from clanledger.models import (
    Attendance,
    Auction,
    AuctionStatus,
    Bid,
    Character,
    Clan,
    Drop,
    DropStatus,
    Period,
    PeriodStatus,
    Posting,
    Role,
)
from clanledger.models.types import utcnow
from clanledger.services import audit, authz
from clanledger.services.drops import (
    check_version,
    lock_drop,
    price_or_error,
    require_holder_or_officer,
    require_transition,
)
from clanledger.services.errors import (
    Conflict,
    NotFound,
    ServiceError,
    ValidationError,
    commit_or_conflict,
)
from clanledger.services.periods import MONTH_CLOSED, local_day, period_for_day
from clanledger.services.sales import post_internal_purchase

AUCTION_CHANGED = N_("This auction changed meanwhile: reload the page and try again.")
AUCTION_OVER = N_("This auction has ended: no more bids.")
MAX_REASON = 500


def _require_int(value: object, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(
            N_("Enter a whole number from %(low)s to %(high)s."),
            field=field,
            params={"low": low, "high": high},
        )
    return value


def rules_of(auction: Auction) -> rules.AuctionRules:
    return rules.AuctionRules(
        start_price=auction.start_price,
        increment=auction.increment,
        sealed=auction.sealed,
        snipe_window=timedelta(seconds=auction.snipe_window_s),
        snipe_extension=timedelta(seconds=auction.snipe_extension_s),
    )


def domain_bids(bids: list[Bid]) -> list[rules.Bid]:
    return [rules.Bid(seq=b.id, bidder=b.character_id, amount=b.amount) for b in bids]


def _refused(exc: rules.BidRefused, field: str) -> ValidationError:
    return ValidationError(exc.message, field=field, params=exc.params)


def open_auction(
    session: Session,
    actor_id: int,
    clan_id: int,
    drop_id: int,
    *,
    start_price: int,
    increment: int,
    ends_at: datetime,
    sealed: bool = False,
    eligibility: rules.Eligibility = rules.Eligibility.CLAN,
    snipe_window_minutes: int = 5,
    snipe_extension_minutes: int = 5,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Auction:
    """Open an internal auction on a held, unsold or stored drop (the holder or an officer).

    Raises:
        ValidationError: a price, increment, end time or anti-sniping setting out of range.
        PermissionDenied: the actor is neither the holder nor an officer.
        Conflict: the drop is sold, already up for auction, or changed since the form.
    """
    now = now or utcnow()
    authz.get_clan(session, actor_id, clan_id)
    drop = lock_drop(session, clan_id, drop_id)
    require_holder_or_officer(session, actor_id, clan_id, drop.holder_character_id)
    check_version(drop, expected_version)
    require_transition(drop, DropStatus.AUCTION)
    price_or_error(start_price, "start_price")
    _require_int(increment, "increment", 1, rules.MAX_INCREMENT)
    window = _require_int(snipe_window_minutes, "snipe_window_minutes", 0, 60)
    extension = _require_int(snipe_extension_minutes, "snipe_extension_minutes", 0, 60)
    _check_end_and_eligibility(ends_at, eligibility, now)
    audit.set_actor(session, actor_id)
    auction = Auction(
        clan_id=clan_id,
        drop_id=drop.id,
        status=AuctionStatus.OPEN,
        start_price=start_price,
        increment=increment,
        sealed=bool(sealed),
        eligibility=rules.Eligibility(eligibility),
        snipe_window_s=window * 60,
        snipe_extension_s=extension * 60,
        opened_at=now,
        planned_end=ends_at,
        ends_at=ends_at,
        created_by_id=actor_id,
    )
    session.add(auction)
    drop.status = DropStatus.AUCTION
    commit_or_conflict(session, AUCTION_CHANGED)
    return auction


def _check_end_and_eligibility(ends_at: datetime, eligibility: object, now: datetime) -> None:
    if eligibility not in tuple(rules.Eligibility):
        raise ValidationError(N_("Choose who may bid from the list."), field="eligibility")
    if ends_at.tzinfo is None:
        raise ValidationError(N_("The end time needs a timezone."), field="ends_at")
    try:
        rules.check_duration(now, ends_at)
    except rules.BidRefused as exc:
        raise _refused(exc, "ends_at") from exc


def _lock_auction(session: Session, clan_id: int, auction_id: int) -> Auction:
    auction = session.execute(
        select(Auction)
        .where(Auction.id == auction_id, Auction.clan_id == clan_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if auction is None:
        raise NotFound()
    return auction


def _bids(session: Session, auction_id: int) -> list[Bid]:
    return list(
        session.execute(select(Bid).where(Bid.auction_id == auction_id).order_by(Bid.id))
        .scalars()
        .all()
    )


def balance_of(session: Session, clan_id: int, character_id: int) -> int:
    """What the clan owes the character now: its postings in the months not yet closed
    (a closed month's balances were settled or carried forward into the next)."""
    total = session.execute(
        select(func.coalesce(func.sum(Posting.amount), 0))
        .join(Period, Period.id == Posting.period_id)
        .where(
            Posting.clan_id == clan_id,
            Posting.character_id == character_id,
            Posting.account_kind == AccountKind.MEMBER,
            Period.status != PeriodStatus.CLOSED,
        )
    ).scalar_one()
    return int(total)


def committed_elsewhere(session: Session, clan_id: int, character_id: int, auction_id: int) -> int:
    """What the character may have to pay in the clan's other running auctions: its bid
    where it leads an open auction, and its best bid in every sealed one (whether a sealed
    bid leads is not known until the end, and a limit must not reveal it)."""
    rows = session.execute(
        select(Bid, Auction.sealed)
        .join(Auction, Auction.id == Bid.auction_id)
        .where(
            Bid.clan_id == clan_id,
            Auction.status == AuctionStatus.OPEN,
            Auction.id != auction_id,
        )
        .order_by(Bid.id)
    ).all()
    by_auction: dict[tuple[int, bool], list[rules.Bid]] = {}
    for bid, sealed in rows:
        by_auction.setdefault((bid.auction_id, sealed), []).append(
            rules.Bid(bid.id, bid.character_id, bid.amount)
        )
    total = 0
    for (_auction, sealed), bids in by_auction.items():
        if sealed:
            total += max((b.amount for b in bids if b.bidder == character_id), default=0)
        elif (best := rules.winner(bids)) is not None and best.bidder == character_id:
            total += best.amount
    return total


def _was_at_kill(session: Session, kill_id: int, character_id: int) -> bool:
    return (
        session.execute(
            select(Attendance.id).where(
                Attendance.kill_id == kill_id, Attendance.character_id == character_id
            )
        ).first()
        is not None
    )


def _bidding_character(session: Session, actor_id: int, clan_id: int, character_id: int):
    character = session.get(Character, character_id)
    if (
        character is None
        or character.clan_id != clan_id
        or character.user_id != actor_id
        or not character.active
    ):
        raise ValidationError(
            N_("Bid with one of your own characters in this clan."), field="character_id"
        )
    return character


def _require_open_month(session: Session, clan: Clan, now: datetime) -> None:
    period = period_for_day(session, clan, local_day(clan, now))
    if period.status == PeriodStatus.CLOSED:
        raise Conflict(MONTH_CLOSED, {"month": period.starts_on})


def place_bid(
    session: Session,
    actor_id: int,
    clan_id: int,
    auction_id: int,
    *,
    character_id: int,
    amount: int,
    now: datetime | None = None,
) -> Bid:
    """Bid ``amount`` diamonds with one of the actor's characters.

    Raises:
        ValidationError: too low, over the bidding limit, not eligible, not one's character.
        Conflict: the auction has ended or was cancelled, the drop is sold, the month closed.
    """
    now = now or utcnow()
    clan = authz.get_clan(session, actor_id, clan_id)
    auction = _lock_auction(session, clan_id, auction_id)
    if auction.status != AuctionStatus.OPEN or now >= auction.ends_at:
        raise Conflict(AUCTION_OVER)
    drop = session.get(Drop, auction.drop_id)
    if drop is None or drop.status != DropStatus.AUCTION:
        raise Conflict(N_("This item has already been sold: nothing more to record."))
    _require_open_month(session, clan, now)
    character = _bidding_character(session, actor_id, clan_id, character_id)
    amount = price_or_error(amount, "amount")
    bids = domain_bids(_bids(session, auction.id))
    try:
        rules.check_eligible(auction.eligibility, _was_at_kill(session, drop.kill_id, character.id))
        rules.check_bid(rules_of(auction), bids, character.id, amount)
        rules.check_limit(
            amount,
            balance_of(session, clan_id, character.id),
            committed_elsewhere(session, clan_id, character.id, auction.id),
            clan.auction_credit,
        )
    except rules.BidRefused as exc:
        raise _refused(exc, "amount") from exc
    audit.set_actor(session, actor_id)
    bid = Bid(
        clan_id=clan_id,
        auction_id=auction.id,
        character_id=character.id,
        user_id=actor_id,
        amount=amount,
        placed_at=now,
    )
    session.add(bid)
    auction.ends_at = rules.extended_end(rules_of(auction), auction.ends_at, now)
    commit_or_conflict(session, AUCTION_CHANGED)
    return bid


def _settle_locked(
    session: Session, clan: Clan, auction: Auction, actor_id: int | None, now: datetime
) -> bool:
    """Book the result of ``auction`` (locked, open, ended); flushes. True if it was won."""
    drop = lock_drop(session, clan.id, auction.drop_id)
    if drop.status != DropStatus.AUCTION:
        raise Conflict(AUCTION_CHANGED)
    bids = _bids(session, auction.id)
    best = rules.winner(domain_bids(bids))
    audit.set_actor(session, actor_id)
    auction.settled_at = now
    if best is None:
        auction.status = AuctionStatus.NO_BIDS
        drop.status = DropStatus.HELD
        session.flush()
        return False
    sale = post_internal_purchase(session, clan, drop, best.bidder, best.amount, actor_id, now)
    auction.status = AuctionStatus.WON
    auction.winning_bid_id = best.seq
    auction.sale_id = sale.id
    session.flush()
    return True


def settle_auction(
    session: Session,
    clan_id: int,
    auction_id: int,
    actor_id: int | None = None,
    now: datetime | None = None,
) -> bool:
    """Settle one auction if it is open and has ended; commits. Returns whether it did
    anything (False: still running, or already settled or cancelled)."""
    now = now or utcnow()
    clan = session.get(Clan, clan_id)
    if clan is None:
        raise NotFound()
    auction = _lock_auction(session, clan_id, auction_id)
    if auction.status != AuctionStatus.OPEN or now < auction.ends_at:
        session.rollback()
        return False
    _settle_locked(session, clan, auction, actor_id, now)
    commit_or_conflict(session, AUCTION_CHANGED)
    return True


@dataclass
class SettleReport:
    """What ``settle-auctions`` did: auctions settled, and the ones that could not be."""

    settled: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


def settle_due(
    session: Session, now: datetime | None = None, clan_id: int | None = None
) -> SettleReport:
    """Settle every open auction whose end has passed (of one clan, or all), each in its
    own transaction: one that cannot be booked (a closed month) does not stop the others."""
    now = now or utcnow()
    query = select(Auction.id, Auction.clan_id).where(
        Auction.status == AuctionStatus.OPEN, Auction.ends_at <= now
    )
    if clan_id is not None:
        query = query.where(Auction.clan_id == clan_id)
    due = session.execute(query.order_by(Auction.ends_at, Auction.id)).all()
    session.rollback()
    report = SettleReport()
    for auction_id, auction_clan in due:
        try:
            if settle_auction(session, auction_clan, auction_id, None, now):
                report.settled.append(auction_id)
        except ServiceError as error:
            session.rollback()
            report.failed.append((auction_id, error.text))
    return report


def cancel_auction(
    session: Session,
    actor_id: int,
    clan_id: int,
    auction_id: int,
    *,
    reason: str,
    now: datetime | None = None,
) -> Auction:
    """Cancel an open auction with a reason (officers); the drop goes back to held."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(N_("Cancelling an auction needs a reason."), field="reason")
    auction = _lock_auction(session, clan_id, auction_id)
    if auction.status != AuctionStatus.OPEN:
        raise Conflict(N_("This auction is already over: it can no longer be cancelled."))
    drop = lock_drop(session, clan_id, auction.drop_id)
    audit.set_actor(session, actor_id)
    auction.status = AuctionStatus.CANCELLED
    auction.cancel_reason = reason[:MAX_REASON]
    auction.settled_at = now
    drop.status = DropStatus.HELD
    commit_or_conflict(session, AUCTION_CHANGED)
    return auction


def set_auction_credit(session: Session, actor_id: int, clan_id: int, credit: int | None) -> Clan:
    """Set the clan's bidding allowance (officers): ``None`` turns the limit off."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    clan = authz.get_clan(session, actor_id, clan_id)
    if credit is not None:
        _require_int(credit, "credit", 0, 10**12)
    audit.set_actor(session, actor_id)
    clan.auction_credit = credit
    commit_or_conflict(session, AUCTION_CHANGED)
    return clan
