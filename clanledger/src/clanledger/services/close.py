"""Month-end close: the fee-aware transfer plan, the lock, the opening of the next period.

How the close treats each account:

* **Members** with a balance at or above the clan's carry threshold are settled by the
  fewest transfers the domain planner finds; the receiver lists a junk item at the gross
  price and the payer buys it. Balances under the threshold carry forward.
* **The clan fund** has no character to list or buy an item, so its diamonds are kept by the
  treasurer: ``Clan.treasurer_character_id``, else the leader's first character. For the
  plan the fund's balance is added to the treasurer's, so the transfers bring the fund's
  diamonds to the treasurer. The fund's own balance is never moved: the next period opens
  with it, and with the treasurer's matching negative balance (the treasurer holds them).
* **FEES** always balances to 0 (the domain charges each fee to whoever bears it).

Confirming locks the period and posts one opening entry into the next period that carries
every balance: the fund's, the carry-forwards, and the amounts the planned transfers will
settle. A transfer's entry is posted when its receiver confirms it (into the first open
period after its own), which clears those amounts; a transfer paid at another price leaves the
difference as a balance there, so it is carried on, never lost. Transfers not yet posted are
"committed": a later close plans around them instead of planning them twice.

Characters sharing one wallet are planned as one (see :mod:`clanledger.domain.wallets`):
right after the opening entry the close posts a fee-free wallet netting entry into the next
period that moves each grouped character's balance onto the character that trades for the
wallet, so once the wallet's transfers are paid every character's balance is settled.

Reopening (leader only) reverses the opening entry, drops the transfers nobody has paid yet
and keeps the paid ones (they count as committed when the period closes again).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from clanledger.domain.messages import N_
from clanledger.domain.notify import Event
from clanledger.domain.savings import Savings
from clanledger.models import (
    Clan,
    EntryKind,
    JournalEntry,
    Period,
    PeriodStatus,
    Role,
    Transfer,
    TransferStatus,
)
from clanledger.models.types import utcnow
from clanledger.services import audit, authz, notify
from clanledger.services.close_preview import (
    ClosePreview,
    PlanLine,
    WhyItem,
    build_preview,
    character_names,
    figures_of,
    parse_plan_code,
    stored_preview,
)
from clanledger.services.errors import Conflict, ValidationError
from clanledger.services.journal import PostingLine, post_entry, reversal_lines
from clanledger.services.periods import (
    load_period,
    lock_period,
    month_has_ended,
    next_period,
)


def preview_close(session: Session, actor_id: int, clan_id: int, period_id: int) -> ClosePreview:
    """The close page of a period (officers): the plan to confirm, or the confirmed plan."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    clan = session.get(Clan, clan_id)
    period = load_period(session, clan_id, period_id)
    if period.status == PeriodStatus.CLOSED and period.close_figures:
        stored = _stored_transfers(session, clan, period)  # type: ignore[arg-type]
        return stored_preview(session, clan, period, stored)  # type: ignore[arg-type]
    preview = build_preview(session, clan, period)  # type: ignore[arg-type]
    if period.status == PeriodStatus.CLOSED:  # closed before its figures were stored
        preview = _with_stored_transfers(session, preview)
    return preview


def _stored_transfers(session: Session, clan: Clan, period: Period) -> list[PlanLine]:
    """The transfers the period's last close created, with their status."""
    rows = (
        session.execute(
            select(Transfer)
            .where(Transfer.period_id == period.id, Transfer.close_round == period.close_count)
            .order_by(Transfer.seq)
        )
        .scalars()
        .all()
    )
    names = character_names(session, clan.id)
    return [
        PlanLine(
            seq=t.seq,
            payer_id=t.payer_character_id or 0,
            payer=names.get(t.payer_character_id or 0, ""),
            receiver_id=t.receiver_character_id or 0,
            receiver=names.get(t.receiver_character_id or 0, ""),
            net=t.net,
            gross=t.gross,
            fee=t.fee,
            why=tuple(WhyItem(*item) for item in (t.why or {}).get("group", [])),
            transfer_id=t.id,
            status=t.status,
        )
        for t in rows
    ]


def _with_stored_transfers(session: Session, preview: ClosePreview) -> ClosePreview:
    """A period closed before closes stored their figures: its transfers, with the saving
    recomputed from their fees."""
    stored = _stored_transfers(session, preview.clan, preview.period)
    per_sale = preview.savings
    plan_fees = sum(t.fee for t in stored)
    savings = Savings(
        per_sale_fees=per_sale.per_sale_fees,
        plan_fees=plan_fees,
        saved=per_sale.per_sale_fees - plan_fees,
        per_sale_transfers=per_sale.per_sale_transfers,
        plan_transfers=len(stored),
    )
    return replace(preview, transfers=stored, savings=savings)


def _require_earlier_closed(session: Session, clan: Clan, period: Period) -> None:
    earlier_open = session.execute(
        select(Period.starts_on)
        .join(JournalEntry, JournalEntry.period_id == Period.id)
        .where(
            Period.clan_id == clan.id,
            Period.starts_on < period.starts_on,
            Period.status == PeriodStatus.OPEN,
        )
        .order_by(Period.starts_on)
        .limit(1)
    ).scalar_one_or_none()
    if earlier_open is not None:
        raise Conflict(N_("Close the earlier open period first: periods close in order."))


NOT_ENDED = N_(
    "%(month)s has not ended yet: it can be closed from %(day)s. "
    "Only the leader can close a month early, with a reason."
)
EARLY_NEEDS_REASON = N_(
    "%(month)s has not ended yet. To close it early, say why (the audit log keeps it)."
)


def require_month_ended(
    session: Session, actor_id: int, clan: Clan, period: Period, reason: str | None, now: datetime
) -> str | None:
    """A month closes after its last day in the clan's timezone; before that only the
    leader may close it, with a reason (returned, to be stored and audited).

    Raises:
        Conflict: the month has not ended and the actor is not the leader.
        ValidationError: the leader gave no reason for closing early.
    """
    if month_has_ended(clan, period, now):
        return None
    month = {"month": period.starts_on, "day": period.ends_on + timedelta(days=1)}
    if authz.active_membership(session, actor_id, clan.id).role != Role.LEADER:
        raise Conflict(NOT_ENDED, month)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(EARLY_NEEDS_REASON, field="early_reason", params=month)
    return reason[:500]


def confirm_close(
    session: Session,
    actor_id: int,
    clan_id: int,
    period_id: int,
    expected_digest: str | None = None,
    expected_plan: str | None = None,
    *,
    early_reason: str | None = None,
    now: datetime | None = None,
) -> Period:
    """Close the period: lock it, create its transfers, open the next period.

    Args:
        expected_digest: the :attr:`ClosePreview.digest` the officer looked at; if the
            balances changed since (a late sale), the close is refused so nobody confirms a
            plan they have not seen.
        expected_plan: the :attr:`ClosePreview.plan_code` the officer looked at. When the
            planner's time budget cut its search short (more than 20 balances, a busy
            server), another server process may plan the same balances differently: the
            confirm then re-plans around the links shown, and refuses if they do not settle
            the balances as well as a fresh plan does.
        early_reason: why the leader closes the month before its last day (required then).
        now: the moment of the close (tests); the month must have ended by then.

    Raises:
        Conflict: already closed, an earlier period still open, the plan changed, or the
            month has not ended (and the actor is not the leader).
        ValidationError: the plan cannot be made (no treasurer for a fund balance...), or
            the leader closes early without a reason.
    """
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    now = now or utcnow()
    audit.set_actor(session, actor_id)
    clan = session.get(Clan, clan_id)
    load_period(session, clan_id, period_id)
    try:
        period = lock_period(session, period_id, exclusive=True)
        if period.status == PeriodStatus.CLOSED:
            raise Conflict(N_("This period is already closed."))
        _require_earlier_closed(session, clan, period)  # type: ignore[arg-type]
        early = require_month_ended(session, actor_id, clan, period, early_reason, now)  # type: ignore[arg-type]
        period.early_close_reason = early
        preview = build_preview(session, clan, period)  # type: ignore[arg-type]
        if preview.problems:
            raise ValidationError(preview.problems[0])
        if expected_digest is not None and expected_digest != preview.digest:
            raise Conflict(N_("The balances changed since you opened the plan: review it again."))
        if expected_plan is not None and expected_plan != preview.plan_code:
            previous = parse_plan_code(expected_plan)
            preview = build_preview(session, clan, period, previous)  # type: ignore[arg-type]
            if not previous or preview.plan_code != expected_plan:
                raise Conflict(N_("The plan changed since you opened it: review it again."))
        _write_close(session, clan, period, preview, actor_id)  # type: ignore[arg-type]
        _announce_close(session, clan, period, preview)  # type: ignore[arg-type]
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return period


def _announce_close(session: Session, clan: Clan, period: Period, preview: ClosePreview) -> None:
    """The month plan for the clan chat: one line per transfer."""
    data = notify.month_data(period, preview.transfers)
    notify.enqueue(session, clan, Event.MONTH_CLOSED, data)


def _write_close(
    session: Session, clan: Clan, period: Period, preview: ClosePreview, actor_id: int
) -> None:
    nxt = next_period(session, clan, period)
    if nxt.status == PeriodStatus.CLOSED:
        raise Conflict(N_("The next period is closed: reopen it first."))
    close_round = period.close_count + 1
    for line in preview.transfers:
        session.add(
            Transfer(
                clan_id=clan.id,
                period_id=period.id,
                close_round=close_round,
                seq=line.seq,
                payer_character_id=line.payer_id,
                receiver_character_id=line.receiver_id,
                net=line.net,
                gross=line.gross,
                fee=line.fee,
                fee_bps=preview.rate.bps,
                fee_policy=preview.policy.value,
                why={"group": [[w.kind, w.name, w.balance, w.with_fund] for w in line.why]},
            )
        )
    opening = [
        PostingLine(line.account.kind.value, line.account.id, line.balance)
        for line in preview.lines
        if line.balance
    ]
    if opening:
        post_entry(
            session,
            clan,
            kind=EntryKind.OPENING,
            lines=opening,
            occurred_at=utcnow(),
            actor_id=actor_id,
            memo=f"opening balances from {period.starts_on:%Y-%m}",
            source=("period", period.id),
            idempotency_key=f"opening:{period.id}:{close_round}",
            period=nxt,
        )
    _post_wallet_netting(session, clan, period, nxt, preview, actor_id, close_round)
    period.close_figures = figures_of(preview)
    period.status = PeriodStatus.CLOSED
    period.closed_at = utcnow()
    period.closed_by_id = actor_id
    period.close_count = close_round
    session.flush()


NETTING_SOURCE = "wallets"  # journal entries sourced to a close's wallet netting


def _post_wallet_netting(
    session: Session,
    clan: Clan,
    period: Period,
    nxt: Period,
    preview: ClosePreview,
    actor_id: int,
    close_round: int,
) -> None:
    """The fee-free moves inside wallets (one entry, summing to 0 per wallet)."""
    lines = [
        PostingLine(line.account.kind.value, line.account.id, line.netting)
        for line in preview.lines
        if line.netting
    ]
    if lines:
        post_entry(
            session,
            clan,
            kind=EntryKind.WALLET_NETTING,
            lines=lines,
            occurred_at=utcnow(),
            actor_id=actor_id,
            memo=f"wallet netting {period.starts_on:%Y-%m}",
            source=(NETTING_SOURCE, period.id),
            idempotency_key=f"netting:{period.id}:{close_round}",
            period=nxt,
        )


def reopen_period(
    session: Session, actor_id: int, clan_id: int, period_id: int, reason: str
) -> Period:
    """Reopen a closed period (leader only): reverse the opening of the next period and drop
    the transfers nobody paid yet. Paid transfers stay; everything is in the audit log.

    Raises:
        ValidationError: no reason given.
        Conflict: the period is open, or the next period is closed (reopen that first).
    """
    authz.require_role(session, actor_id, clan_id, Role.LEADER)
    audit.set_actor(session, actor_id)
    if not reason.strip():
        raise ValidationError(N_("Say why the period is reopened."), field="reason")
    clan = session.get(Clan, clan_id)
    load_period(session, clan_id, period_id)
    try:
        period = lock_period(session, period_id, exclusive=True)
        if period.status != PeriodStatus.CLOSED:
            raise Conflict(N_("This period is not closed."))
        nxt = next_period(session, clan, period)  # type: ignore[arg-type]
        if nxt.status == PeriodStatus.CLOSED:
            raise Conflict(N_("Reopen the later period first: periods reopen in order."))
        _reverse_openings(session, clan, period, nxt, actor_id, reason.strip())  # type: ignore[arg-type]
        for transfer in session.execute(
            select(Transfer).where(
                Transfer.period_id == period.id, Transfer.status == TransferStatus.PLANNED
            )
        ).scalars():
            session.delete(transfer)
        period.status = PeriodStatus.OPEN
        period.closed_at = None
        period.closed_by_id = None
        period.early_close_reason = None
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return period


def _reverse_openings(
    session: Session, clan: Clan, period: Period, nxt: Period, actor_id: int, reason: str
) -> None:
    reversed_ids = select(JournalEntry.reverses_id).where(JournalEntry.reverses_id.is_not(None))
    openings = session.execute(
        select(JournalEntry)
        .where(
            JournalEntry.clan_id == clan.id,
            or_(
                and_(JournalEntry.kind == EntryKind.OPENING, JournalEntry.source_type == "period"),
                and_(
                    JournalEntry.kind == EntryKind.WALLET_NETTING,
                    JournalEntry.source_type == NETTING_SOURCE,
                ),
            ),
            JournalEntry.source_id == period.id,
            JournalEntry.id.not_in(reversed_ids),
        )
        .order_by(JournalEntry.id)
        .options(selectinload(JournalEntry.postings))
    ).scalars()
    for entry in openings:
        post_entry(
            session,
            clan,
            kind=EntryKind.REVERSAL,
            lines=reversal_lines(entry),
            occurred_at=utcnow(),
            actor_id=actor_id,
            memo=f"reopen {period.starts_on:%Y-%m}",
            reason=reason,
            source=(entry.source_type or "period", period.id),
            idempotency_key=f"reopen:{entry.id}",
            period=nxt,
            reverses=entry,
        )
