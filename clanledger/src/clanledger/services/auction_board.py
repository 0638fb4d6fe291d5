"""What members see of the internal auctions: the list, and one auction from a bidder's
point of view (current price, their standing, time left, the least they may bid).

Opening either page settles the auctions that have ended (:func:`auctions.settle_auction`),
so a result never waits for the command-line job.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from clanledger.domain import auction as rules
from clanledger.models import Auction, AuctionStatus, Bid, Character, Clan, Drop, Role
from clanledger.models.types import utcnow
from clanledger.services import auctions, authz
from clanledger.services.errors import NotFound, ServiceError

RECENT_FINISHED = 20
PRICED = (AuctionStatus.OPEN, AuctionStatus.WON)


class Standing(enum.StrEnum):
    """Where the viewer's best bid stands (won and lost only once the result is booked)."""

    NONE = "none"  # no bid yet
    LEADING = "leading"  # open auction: the highest bid is theirs
    OUTBID = "outbid"  # open auction: someone bid more
    SEALED = "sealed"  # sealed auction: they bid, the result shows at the end
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True)
class BidRow:
    amount: int
    character_name: str
    placed_at: datetime
    mine: bool


@dataclass
class AuctionPage:
    auction: Auction
    drop: Drop
    now: datetime
    current_price: int | None  # None for a sealed auction until it ends
    leader_name: str | None
    bid_count: int
    my_best: int | None
    standing: Standing
    minimum: int | None  # the least the viewer may bid now (None: cannot bid)
    characters: list[Character]  # the viewer's characters that may bid
    room: int | None  # what the bidding limit leaves the first character (None: no limit)
    bids: list[BidRow]  # every bid, once they may be shown (open, or after the end)
    winner_name: str | None
    may_cancel: bool
    settle_error: ServiceError | None = None

    @property
    def time_left(self) -> timedelta:
        return max(self.auction.ends_at - self.now, timedelta(0))

    @property
    def running(self) -> bool:
        return self.auction.status == AuctionStatus.OPEN and self.now < self.auction.ends_at


def _settle_if_due(session: Session, clan_id: int, auction: Auction, actor_id: int, now: datetime):
    if auction.status != AuctionStatus.OPEN or now < auction.ends_at:
        return None
    try:
        auctions.settle_auction(session, clan_id, auction.id, actor_id, now)
    except ServiceError as error:
        session.rollback()
        return error
    return None


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Character.id, Character.name).where(Character.id.in_(ids)))
    return {cid: name for cid, name in rows.all()}


def own_characters(session: Session, actor_id: int, clan_id: int) -> list[Character]:
    """The actor's active characters in the clan: the ones they may bid with."""
    authz.active_membership(session, actor_id, clan_id)
    return list(
        session.execute(
            select(Character)
            .where(
                Character.clan_id == clan_id,
                Character.user_id == actor_id,
                Character.active.is_(True),
            )
            .order_by(Character.name)
        )
        .scalars()
        .all()
    )


def _standing(auction: Auction, running: bool, mine: list[Bid], best: rules.Bid | None):
    if not mine:
        return Standing.NONE
    ours = best is not None and any(b.id == best.seq for b in mine)
    if not running:
        if auction.status != AuctionStatus.WON:
            return Standing.NONE  # no result (cancelled, or not booked yet): nobody won
        return Standing.WON if ours else Standing.LOST
    if auction.sealed:
        return Standing.SEALED
    return Standing.LEADING if ours else Standing.OUTBID


def auction_page(
    session: Session, actor_id: int, clan_id: int, auction_id: int, now: datetime | None = None
) -> AuctionPage:
    """One auction as the viewer sees it; settles it first if it has ended."""
    now = now or utcnow()
    membership = authz.active_membership(session, actor_id, clan_id)
    auction = session.get(Auction, auction_id)
    if auction is None or auction.clan_id != clan_id:
        raise NotFound()
    error = _settle_if_due(session, clan_id, auction, actor_id, now)
    session.refresh(auction)
    drop = session.get(Drop, auction.drop_id)
    assert drop is not None
    bids = list(auction.bids)
    best = rules.winner(auctions.domain_bids(bids))
    running = auction.status == AuctionStatus.OPEN and now < auction.ends_at
    own = own_characters(session, actor_id, clan_id)
    own_ids = {c.id for c in own}
    mine = [b for b in bids if b.character_id in own_ids]
    names = _names(session, {b.character_id for b in bids})
    shown = not auction.sealed or not running
    # A price and a leader only while bidding or once won (not for a cancelled auction).
    priced = best if best and shown and auction.status in PRICED else None
    page = AuctionPage(
        auction=auction,
        drop=drop,
        now=now,
        current_price=priced.amount if priced else None,
        leader_name=names.get(priced.bidder) if priced else None,
        bid_count=len(bids),
        my_best=max((b.amount for b in mine), default=None),
        standing=_standing(auction, running, mine, best),
        minimum=None,
        characters=own if running else [],
        room=None,
        bids=[
            BidRow(b.amount, names.get(b.character_id, ""), b.placed_at, b.character_id in own_ids)
            for b in reversed(bids)
        ]
        if shown
        else [],
        winner_name=names.get(best.bidder)
        if best and auction.status == AuctionStatus.WON
        else None,
        may_cancel=running and membership.role.rank >= Role.OFFICER.rank,
        settle_error=error,
    )
    if running and own:
        _fill_bidding(session, page, auction, bids, own[0])
    return page


def _fill_bidding(
    session: Session, page: AuctionPage, auction: Auction, bids: list[Bid], character: Character
) -> None:
    page.minimum = rules.minimum_bid(
        auctions.rules_of(auction), auctions.domain_bids(bids), character.id
    )
    clan = session.get(Clan, auction.clan_id)
    assert clan is not None
    if clan.auction_credit is not None:
        room = (
            auctions.balance_of(session, clan.id, character.id)
            + clan.auction_credit
            - auctions.committed_elsewhere(session, clan.id, character.id, auction.id)
        )
        page.room = max(room, 0)


@dataclass(frozen=True)
class AuctionRow:
    auction: Auction
    drop_name: str
    current_price: int | None
    bid_count: int


@dataclass
class AuctionList:
    running: list[AuctionRow]
    finished: list[AuctionRow]
    credit: int | None


def _row(auction: Auction, drop_name: str) -> AuctionRow:
    best = rules.winner(auctions.domain_bids(list(auction.bids)))
    price = best.amount if best and not auction.sealed else None
    if auction.status == AuctionStatus.WON and best:
        price = best.amount
    return AuctionRow(auction, drop_name, price, len(auction.bids))


def list_auctions(
    session: Session, actor_id: int, clan_id: int, now: datetime | None = None
) -> AuctionList:
    """Running auctions (ending soonest first) and the latest finished ones; auctions of
    the clan that have ended are settled first."""
    now = now or utcnow()
    clan = authz.get_clan(session, actor_id, clan_id)
    auctions.settle_due(session, now, clan_id)
    base = (
        select(Auction, Drop.name)
        .join(Drop, Drop.id == Auction.drop_id)
        .where(Auction.clan_id == clan_id)
        .options(selectinload(Auction.bids))
    )
    running = session.execute(
        base.where(Auction.status == AuctionStatus.OPEN).order_by(Auction.ends_at, Auction.id)
    ).all()
    finished = session.execute(
        base.where(Auction.status != AuctionStatus.OPEN)
        .order_by(Auction.ends_at.desc(), Auction.id.desc())
        .limit(RECENT_FINISHED)
    ).all()
    return AuctionList(
        [_row(a, name) for a, name in running],
        [_row(a, name) for a, name in finished],
        clan.auction_credit,
    )
