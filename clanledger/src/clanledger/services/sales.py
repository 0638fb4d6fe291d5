"""Selling a drop, buying one internally, and correcting a sale.

A sale on the exchange posts one balanced journal entry through the domain core: the holder
received the diamonds, so the holder owes them (debit); each participant of the kill is
credited their share by weight and the clan fund its cut (:func:`distribute_sale` +
:func:`sale_postings`). An internal purchase posts the same distribution against the buyer's
balance, with no exchange fee.

Posting is idempotent, enforced by the database: ``sales.drop_id`` is unique and the entry's
idempotency key is derived from the item's version, so a double-submitted form loses the race
with an :class:`IntegrityError`, reported as a :class:`Conflict`. Corrections are reversing
entries with a reason, never edits of an entry.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from clanledger.domain import ledger as dl
from clanledger.domain.attendance import kill_weights
from clanledger.domain.distribution import SaleDistribution, distribute_sale
from clanledger.domain.errors import ZeroTotalWeight
from clanledger.domain.fees import received_from
from clanledger.domain.messages import N_
from clanledger.domain.money import Rate
from clanledger.domain.notify import Event
from clanledger.models import (
    Clan,
    Drop,
    DropStatus,
    EntryKind,
    JournalEntry,
    Kill,
    Role,
    Sale,
    SaleKind,
)
from clanledger.models.types import utcnow
from clanledger.services import audit, authz, notify
from clanledger.services.drops import (
    check_version,
    clan_character,
    lock_drop,
    price_or_error,
    require_holder_or_officer,
    require_transition,
)
from clanledger.services.errors import Conflict, NotFound, ValidationError, commit_or_conflict
from clanledger.services.journal import lines_from_domain, post_entry, reversal_lines
from clanledger.services.periods import local_day
from clanledger.services.rates import Rates, rates_on

ALREADY_SOLD = N_("This item has already been sold: the sale was recorded once, not twice.")
NEGATIVE_RECEIVED = N_("Diamonds received is a whole number, 0 or more.")
TOO_MUCH_RECEIVED = N_("Diamonds received cannot be more than the sale price.")


def expected_received(gross: int, rates: Rates) -> int:
    """What the exchange should pay for a sale at ``gross`` with the fee in force."""
    return received_from(gross, rates.fee)


def is_mismatch(sale: Sale) -> bool:
    """Whether the diamonds typed in differ from what the fee rate predicts."""
    return sale.expected_received is not None and sale.received != sale.expected_received


def _weights(session: Session, kill_id: int) -> dict[dl.Account, Fraction]:
    kill = session.execute(
        select(Kill).where(Kill.id == kill_id).options(selectinload(Kill.attendance))
    ).scalar_one()
    attendance = {a.character_id: a.weight for a in kill.attendance}
    weights = kill_weights(attendance, kill.caller_character_id, kill.caller_bonus)
    return {dl.member(cid): w for cid, w in weights.items()}


def _distribution(
    session: Session, drop: Drop, received: int, fund_cut: Rate
) -> SaleDistribution[dl.Account]:
    weights = _weights(session, drop.kill_id)
    if not weights:
        raise ValidationError(
            N_("The kill of this item has nobody on its roll call: add the participants first."),
            field="received",
        )
    try:
        return distribute_sale(received, fund_cut, weights, seed=drop.id)
    except ZeroTotalWeight as exc:
        raise ValidationError(
            N_("Everyone at the kill has weight 0: fix the roll call first."), field="received"
        ) from exc


def _sold_at(clan: Clan, sold_at: datetime | None, now: datetime) -> datetime:
    sold_at = sold_at or now
    if sold_at.tzinfo is None:
        raise ValidationError(N_("The sale time needs a timezone."), field="sold_at")
    if sold_at > now + timedelta(minutes=5):
        raise ValidationError(N_("The sale time is in the future."), field="sold_at")
    return sold_at


def _post_sale(
    session: Session,
    clan: Clan,
    drop: Drop,
    sale: Sale,
    distribution: SaleDistribution[dl.Account],
    actor_id: int | None,
    occurred_at: datetime,
    key: str,
    reason: str = "",
) -> JournalEntry:
    if sale.kind == SaleKind.INTERNAL:
        assert sale.buyer_character_id is not None
        postings = dl.internal_purchase_postings(dl.member(sale.buyer_character_id), distribution)
        kind = EntryKind.INTERNAL_PURCHASE
    else:
        postings = dl.sale_postings(dl.member(drop.holder_character_id), distribution)
        kind = EntryKind.SALE
    return post_entry(
        session,
        clan,
        kind=kind,
        lines=lines_from_domain(postings),
        occurred_at=occurred_at,
        actor_id=actor_id,
        memo=drop.name[:200],
        reason=reason,
        source=("drop", drop.id),
        idempotency_key=key,
    )


def record_sale(
    session: Session,
    actor_id: int,
    clan_id: int,
    drop_id: int,
    *,
    received: int,
    gross_price: int | None = None,
    sold_at: datetime | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Sale:
    """Record that a listed item sold on the exchange and post its distribution.

    Args:
        received: diamonds actually received, as shown in the game.
        gross_price: the price it sold at (defaults to the asking price).
        sold_at: when it sold (defaults to now); the fee and cut in force that day apply.
        expected_version: the item version the form was built from (stale form -> Conflict).

    Raises:
        ValidationError: bad amount, no participants, all weights zero.
        PermissionDenied: the actor is neither the holder nor an officer.
        Conflict: already sold (double submit), not listed, changed meanwhile, closed period.
    """
    now = now or utcnow()
    clan = authz.get_clan(session, actor_id, clan_id)
    drop = lock_drop(session, clan_id, drop_id)
    require_holder_or_officer(session, actor_id, clan_id, drop.holder_character_id)
    if drop.status == DropStatus.SOLD or drop.sale is not None:
        raise Conflict(ALREADY_SOLD)
    check_version(drop, expected_version)
    require_transition(drop, DropStatus.SOLD)
    gross = price_or_error(
        gross_price if gross_price is not None else drop.asking_price, "gross_price"
    )
    if isinstance(received, bool) or not isinstance(received, int) or received < 0:
        raise ValidationError(NEGATIVE_RECEIVED, field="received")
    if received > gross:
        raise ValidationError(TOO_MUCH_RECEIVED, field="received")
    sold_at = _sold_at(clan, sold_at, now)
    rates = rates_on(session, clan_id, local_day(clan, sold_at))
    distribution = _distribution(session, drop, received, rates.fund_cut)
    audit.set_actor(session, actor_id)
    sale = Sale(
        clan_id=clan_id,
        drop_id=drop.id,
        kind=SaleKind.EXCHANGE,
        gross_price=gross,
        received=received,
        expected_received=expected_received(gross, rates),
        fee_bps=rates.fee.bps,
        fund_cut_bps=rates.fund_cut.bps,
        sold_at=sold_at,
        created_by_id=actor_id,
    )
    return _book_sale(session, clan, drop, sale, distribution, actor_id, DropStatus.SOLD)


def record_internal_purchase(
    session: Session,
    actor_id: int,
    clan_id: int,
    drop_id: int,
    *,
    buyer_character_id: int,
    price: int,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Sale:
    """A member buys the item from the clan at an agreed price: no exchange fee; the
    buyer's balance pays and the participants and fund are credited as for a sale."""
    now = now or utcnow()
    clan = authz.get_clan(session, actor_id, clan_id)
    drop = lock_drop(session, clan_id, drop_id)
    require_holder_or_officer(session, actor_id, clan_id, drop.holder_character_id)
    if drop.status == DropStatus.BOUGHT or drop.sale is not None:
        raise Conflict(ALREADY_SOLD)
    check_version(drop, expected_version)
    require_transition(drop, DropStatus.BOUGHT)
    buyer = clan_character(session, clan_id, buyer_character_id, "buyer_character_id")
    price_or_error(price, "price")
    sale = post_internal_purchase(session, clan, drop, buyer.id, price, actor_id, now)
    commit_or_conflict(session, ALREADY_SOLD)
    return sale


def post_internal_purchase(
    session: Session,
    clan: Clan,
    drop: Drop,
    buyer_character_id: int,
    price: int,
    actor_id: int | None,
    now: datetime,
) -> Sale:
    """Book ``drop`` as bought by ``buyer_character_id`` at ``price`` (no exchange fee, the
    fund cut in force today) and move it to bought. The caller has locked the drop and
    checked who may do this; this flushes and the caller commits (an internal purchase
    and an auction's result alike)."""
    rates = rates_on(session, clan.id, local_day(clan, now))
    distribution = _distribution(session, drop, price, rates.fund_cut)
    audit.set_actor(session, actor_id)
    sale = Sale(
        clan_id=clan.id,
        drop_id=drop.id,
        kind=SaleKind.INTERNAL,
        gross_price=price,
        received=price,
        expected_received=price,
        fee_bps=0,
        fund_cut_bps=rates.fund_cut.bps,
        buyer_character_id=buyer_character_id,
        sold_at=now,
        created_by_id=actor_id,
    )
    session.add(sale)
    key = f"sale:{drop.id}:{drop.version}"
    entry = _post_sale(session, clan, drop, sale, distribution, actor_id, now, key)
    sale.entry_id = entry.id
    drop.status = DropStatus.BOUGHT
    session.flush()
    return sale


def _book_sale(
    session: Session,
    clan: Clan,
    drop: Drop,
    sale: Sale,
    distribution: SaleDistribution[dl.Account],
    actor_id: int,
    status: DropStatus,
) -> Sale:
    """Post ``sale``'s distribution (once per drop version), move the drop to ``status``
    and commit: the last steps of an exchange sale and an internal purchase alike."""
    session.add(sale)
    key = f"sale:{drop.id}:{drop.version}"
    entry = _post_sale(session, clan, drop, sale, distribution, actor_id, sale.sold_at, key)
    sale.entry_id = entry.id
    drop.status = status
    session.flush()
    data = {"drop_id": drop.id, "sale_id": sale.id, "item": drop.name, "kind": sale.kind.value}
    data |= {"gross": sale.gross_price, "received": sale.received}
    notify.enqueue(session, clan, Event.SALE_RECORDED, data)
    commit_or_conflict(session, ALREADY_SOLD)
    return sale


def reverse_entry(
    session: Session, clan: Clan, entry: JournalEntry, actor_id: int, reason: str, now: datetime
) -> JournalEntry:
    """Post the reversal of ``entry`` into the open period, with ``reason``. The database
    allows one reversal per entry (``reverses_id`` is unique)."""
    return post_entry(
        session,
        clan,
        kind=EntryKind.REVERSAL,
        lines=reversal_lines(entry),
        occurred_at=now,
        actor_id=actor_id,
        memo=entry.memo,
        reason=reason,
        source=(entry.source_type, entry.source_id) if entry.source_type else None,
        idempotency_key=f"reverse:{entry.id}",
        reverses=entry,
    )


def _sale_for_update(session: Session, clan_id: int, drop_id: int) -> tuple[Drop, Sale]:
    drop = lock_drop(session, clan_id, drop_id)
    sale = session.execute(
        select(Sale).where(Sale.drop_id == drop.id).with_for_update()
    ).scalar_one_or_none()
    if sale is None or sale.entry_id is None:
        raise NotFound()
    return drop, sale


def _require_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError(N_("A correction needs a reason."), field="reason")
    return reason[:500]


def correct_sale(
    session: Session,
    actor_id: int,
    clan_id: int,
    drop_id: int,
    *,
    received: int,
    reason: str,
    gross_price: int | None = None,
    now: datetime | None = None,
) -> Sale:
    """Correct the amount of a recorded sale (officer): the old entry is reversed and the
    corrected distribution posted, both in the open period and both with ``reason``."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    now = now or utcnow()
    clan = authz.get_clan(session, actor_id, clan_id)
    reason = _require_reason(reason)
    drop, sale = _sale_for_update(session, clan_id, drop_id)
    gross = price_or_error(
        gross_price if gross_price is not None else sale.gross_price, "gross_price"
    )
    if isinstance(received, bool) or not isinstance(received, int) or received < 0:
        raise ValidationError(NEGATIVE_RECEIVED, field="received")
    if received > gross:
        raise ValidationError(TOO_MUCH_RECEIVED, field="received")
    audit.set_actor(session, actor_id)
    rates = rates_on(session, clan_id, local_day(clan, sale.sold_at))
    sale.gross_price = gross
    sale.received = received
    if sale.kind == SaleKind.INTERNAL:
        sale.expected_received = received
    else:
        sale.expected_received = expected_received(gross, rates)
    _repost(session, clan, drop, sale, actor_id, reason, now)
    commit_or_conflict(session, N_("This sale was corrected meanwhile: reload and try again."))
    return sale


def _repost(
    session: Session,
    clan: Clan,
    drop: Drop,
    sale: Sale,
    actor_id: int,
    reason: str,
    now: datetime,
) -> None:
    old = session.get(JournalEntry, sale.entry_id)
    assert old is not None
    reverse_entry(session, clan, old, actor_id, reason, now)
    distribution = _distribution(session, drop, sale.received, Rate(sale.fund_cut_bps))
    new = _post_sale(
        session, clan, drop, sale, distribution, actor_id, now, f"repost:{old.id}", reason
    )
    sale.entry_id = new.id


def void_sale(
    session: Session,
    actor_id: int,
    clan_id: int,
    drop_id: int,
    *,
    reason: str,
    now: datetime | None = None,
) -> Drop:
    """Undo a sale recorded by mistake (officer): its entry is reversed with ``reason``, the
    sale row removed (the audit log keeps it) and the item goes back to listed (exchange)
    or held (internal purchase)."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    now = now or utcnow()
    clan = authz.get_clan(session, actor_id, clan_id)
    reason = _require_reason(reason)
    drop, sale = _sale_for_update(session, clan_id, drop_id)
    old = session.get(JournalEntry, sale.entry_id)
    assert old is not None
    audit.set_actor(session, actor_id)
    reverse_entry(session, clan, old, actor_id, reason, now)
    drop.status = DropStatus.LISTED if sale.kind == SaleKind.EXCHANGE else DropStatus.HELD
    session.delete(sale)
    commit_or_conflict(session, N_("This sale was changed meanwhile: reload and try again."))
    return drop


def repost_kill_sales(
    session: Session, actor_id: int, kill: Kill, reason: str, now: datetime
) -> int:
    """After a roll-call change, re-post every sold drop of ``kill`` with the new weights.
    Flushes; the caller commits. Returns how many sales were re-posted."""
    clan = session.get(Clan, kill.clan_id)
    assert clan is not None
    session.expire(kill, ["attendance"])
    sales = session.execute(
        select(Sale)
        .join(Drop, Drop.id == Sale.drop_id)
        .where(Drop.kill_id == kill.id, Sale.entry_id.is_not(None))
        .order_by(Sale.id)
    ).scalars()
    count = 0
    for sale in sales:
        drop = session.get(Drop, sale.drop_id)
        assert drop is not None
        _repost(session, clan, drop, sale, actor_id, reason, now)
        count += 1
    session.flush()
    return count
