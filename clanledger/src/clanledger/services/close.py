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
settle. A transfer's entry is posted when its receiver confirms it (into the open period of
that day), which clears those amounts; a transfer paid at another price leaves the
difference as a balance there, so it is carried on, never lost. Transfers not yet posted are
"committed": a later close plans around them instead of planning them twice.

Reopening (leader only) reverses the opening entry, drops the transfers nobody has paid yet
and keeps the paid ones (they count as committed when the period closes again).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from itertools import groupby
from operator import itemgetter

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from clanledger.domain.errors import DomainError
from clanledger.domain.fees import FeePolicy
from clanledger.domain.ledger import FUND, Account, AccountKind, member
from clanledger.domain.money import Rate, RateSchedule
from clanledger.domain.savings import Savings, netting_savings
from clanledger.domain.settlement import SettlementPlan, explain_transfer, plan_settlement
from clanledger.domain.settlement import Transfer as SettlementTransfer
from clanledger.i18n import N_
from clanledger.models import (
    Character,
    Clan,
    ClanRate,
    EntryKind,
    JournalEntry,
    Membership,
    Period,
    PeriodStatus,
    Posting,
    RateKind,
    Role,
    Transfer,
    TransferStatus,
)
from clanledger.models.types import utcnow
from clanledger.services import audit, authz
from clanledger.services.errors import Conflict, ValidationError
from clanledger.services.ledger import Line, member_balances, post_entry
from clanledger.services.periods import load_period, lock_period, next_period
from clanledger.services.transfers import account_of, committed_effects

PER_SALE_KINDS = (EntryKind.SALE, EntryKind.INTERNAL_PURCHASE)


@dataclass(frozen=True)
class BalanceLine:
    """One account's closing balance and what the close does with it."""

    account: Account
    name: str
    balance: int  # sum of the period's postings
    committed: int  # moved by transfers planned earlier and not posted yet
    carried: int  # carried forward (under the threshold), by the plan

    @property
    def to_settle(self) -> int:
        return self.balance + self.committed


@dataclass(frozen=True)
class WhyItem:
    """One balance of the group a transfer settles; ``with_fund`` when it includes the
    clan fund's balance (the treasurer's)."""

    kind: str
    name: str
    balance: int
    with_fund: bool = False


@dataclass(frozen=True)
class PlanLine:
    """One transfer: ``receiver`` lists a junk item at ``gross``, ``payer`` buys it."""

    seq: int
    payer_id: int
    payer: str
    receiver_id: int
    receiver: str
    net: int
    gross: int
    fee: int
    why: tuple[WhyItem, ...]  # the balances of the zero-sum group it settles
    transfer_id: int | None = None
    status: TransferStatus = TransferStatus.PLANNED

    @property
    def received(self) -> int:
        return self.gross - self.fee


@dataclass(frozen=True)
class ClosePreview:
    """Everything the close page shows; for a closed period, the plan that was confirmed."""

    clan: Clan
    period: Period
    rate: Rate
    policy: FeePolicy
    threshold: int
    treasurer_id: int | None
    treasurer: str
    fund_balance: int
    lines: list[BalanceLine]
    transfers: list[PlanLine]
    savings: Savings
    sales: int
    problems: list[str] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return self.period.status == PeriodStatus.CLOSED

    @property
    def groups(self) -> list[tuple[tuple[WhyItem, ...], list[PlanLine]]]:
        """Each zero-sum group once, with the transfers that settle it, in plan order."""
        found: dict[tuple[WhyItem, ...], list[PlanLine]] = {}
        for line in self.transfers:
            found.setdefault(line.why, []).append(line)
        return list(found.items())

    @property
    def group_numbers(self) -> dict[tuple[WhyItem, ...], int]:
        """1-based number of each group (the anchor of a transfer's "why")."""
        return {why: number for number, (why, _) in enumerate(self.groups, start=1)}

    @property
    def carried_total(self) -> int:
        return sum(abs(line.carried) for line in self.lines)

    @property
    def digest(self) -> str:
        """A fingerprint of what the plan depends on: the form carries it to the confirm."""
        parts = [f"{self.rate.bps}:{self.policy.value}:{self.threshold}:{self.treasurer_id}"]
        parts += [f"{line.account}={line.to_settle}" for line in self.lines]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def treasurer_of(session: Session, clan: Clan) -> int | None:
    """The character holding the fund: the clan's treasurer, else the leader's first one."""
    if clan.treasurer_character_id is not None:
        return clan.treasurer_character_id
    return session.execute(
        select(Character.id)
        .join(Membership, Membership.user_id == Character.user_id)
        .where(
            Membership.clan_id == clan.id,
            Membership.role == Role.LEADER,
            Membership.status == "active",
            Character.clan_id == clan.id,
        )
        .order_by(Character.active.desc(), Character.id)
        .limit(1)
    ).scalar_one_or_none()


def fee_rate_on(session: Session, clan: Clan, day: date) -> Rate:
    """The exchange fee rate in force on ``day``."""
    rows = session.execute(
        select(ClanRate.effective_from, ClanRate.bps).where(
            ClanRate.clan_id == clan.id, ClanRate.kind == RateKind.EXCHANGE_FEE
        )
    ).all()
    if not rows:
        raise ValidationError(
            N_("The clan has no exchange fee rate: set one in the clan settings.")
        )
    try:
        return RateSchedule.of((d, Rate(bps)) for d, bps in rows).rate_on(day)
    except DomainError as exc:
        raise ValidationError(str(exc)) from exc


def character_names(session: Session, clan_id: int) -> dict[int, str]:
    rows = session.execute(select(Character.id, Character.name).where(Character.clan_id == clan_id))
    return dict(rows.all())


def account_name(account: Account, names: dict[int, str]) -> str:
    if account.kind is AccountKind.MEMBER:
        return names.get(account.id or 0, f"#{account.id}")
    return {AccountKind.FUND: "clan fund", AccountKind.FEES: "exchange fees"}[account.kind]


def period_balances(session: Session, clan_id: int, period_id: int) -> dict[Account, int]:
    """Each account's balance from the period's postings (zero balances left out)."""
    totals = member_balances(session, clan_id, period_id)
    return {account_of(k, c): v for (k, c), v in sorted(totals.items(), key=str) if v}


def per_sale_payments(
    session: Session, period_id: int, treasurer: int | None
) -> list[tuple[Account, Account, int]]:
    """``(payer, receiver, net)`` for paying every share right after each sale: the holder
    (or internal buyer) pays each participant, and the fund's cut to the treasurer; one
    payment per receiver and sale."""
    rows = session.execute(
        select(Posting.entry_id, Posting.account_kind, Posting.character_id, Posting.amount)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(JournalEntry.period_id == period_id, JournalEntry.kind.in_(PER_SALE_KINDS))
        .order_by(Posting.entry_id, Posting.id)
    ).all()
    # Without a treasurer the holder keeps the fund's cut: no payment (as the domain does).
    fund = member(treasurer) if treasurer is not None else None
    payments = []
    for _entry, group in groupby(rows, key=itemgetter(0)):
        postings = [(account_of(kind, cid), amount) for _, kind, cid, amount in group]
        debtors = [a for a, amount in postings if amount < 0 and a.kind is AccountKind.MEMBER]
        if len(debtors) != 1:
            continue  # not the shape of a sale (a corrected entry): no per-sale payout
        payer = debtors[0]
        owed: dict[Account, int] = defaultdict(int)
        for account, amount in postings:
            receiver = fund if account == FUND else account
            if amount > 0 and receiver is not None and receiver != payer:
                owed[receiver] += amount
        payments.extend((payer, receiver, amount) for receiver, amount in owed.items())
    return payments


def _plan_inputs(
    balances: dict[Account, int], committed: dict[Account, int], treasurer: int | None
) -> tuple[dict[Account, int], list[str]]:
    """Balances to settle (the fund's on the treasurer's) and any problem found."""
    to_plan: dict[Account, int] = defaultdict(int)
    problems = []
    for account in sorted(set(balances) | set(committed)):
        value = balances.get(account, 0) + committed.get(account, 0)
        if account.kind is AccountKind.FEES:
            if value:
                problems.append(N_("The exchange fee account does not balance."))
        elif account.kind is AccountKind.FUND and treasurer is not None:
            to_plan[member(treasurer)] += value
        else:
            to_plan[account] += value
    return {k: v for k, v in to_plan.items() if v}, problems


@lru_cache(maxsize=64)
def cached_plan(
    balances: tuple[tuple[Account, int], ...], rate: Rate, policy: FeePolicy, threshold: int
) -> SettlementPlan[Account]:
    """The domain's plan for these exact inputs, remembered: the search for the fewest
    transfers among a hundred balances takes a noticeable fraction of a second, and the same
    balances are planned again for every view of the close page and for the confirm (which
    thereby creates the very plan the officer saw)."""
    return plan_settlement(
        dict(balances), rate, policy, carry_threshold=threshold, carry_accounts=(FUND,)
    )


def build_preview(session: Session, clan: Clan, period: Period) -> ClosePreview:
    """The plan that closing ``period`` now would confirm (no permission check, no writes).

    Without a treasurer character the fund is a carried account: it stays with the members
    who hold its diamonds.
    """
    rate = fee_rate_on(session, clan, period.ends_on)
    policy = FeePolicy(clan.fee_policy)
    threshold = int(clan.carry_threshold or 0)
    names = character_names(session, clan.id)
    treasurer = treasurer_of(session, clan)
    balances = period_balances(session, clan.id, period.id)
    committed = committed_effects(session, clan, period)
    to_plan, problems = _plan_inputs(balances, committed, treasurer)
    plan = cached_plan(
        tuple(sorted((k, v) for k, v in to_plan.items() if k.kind is not AccountKind.FEES)),
        rate,
        policy,
        threshold,
    )
    carried = dict(plan.carried)
    lines = [
        BalanceLine(
            account=account,
            name=account_name(account, names),
            balance=balances.get(account, 0),
            committed=committed.get(account, 0),
            carried=carried.get(account, 0),
        )
        for account in sorted(set(balances) | set(committed) | set(carried))
    ]
    fund_on = treasurer if balances.get(FUND, 0) + committed.get(FUND, 0) else None
    transfers = [
        _plan_line(seq, t, explain_transfer(plan, t), names, fund_on)
        for seq, t in enumerate(plan.transfers, start=1)
    ]
    payments = per_sale_payments(session, period.id, treasurer)
    return ClosePreview(
        clan=clan,
        period=period,
        rate=rate,
        policy=policy,
        threshold=threshold,
        treasurer_id=treasurer,
        treasurer=names.get(treasurer or 0, ""),
        fund_balance=balances.get(FUND, 0),
        lines=lines,
        transfers=transfers,
        savings=netting_savings(payments, plan, rate, policy),
        sales=_count_sales(session, period.id),
        problems=problems,
    )


def _plan_line(
    seq: int,
    transfer: SettlementTransfer[Account],
    group: dict[Account, int],
    names: dict[int, str],
    fund_on: int | None,
) -> PlanLine:
    why = tuple(
        WhyItem(
            account.kind.value,
            account_name(account, names),
            int(balance),
            fund_on is not None and account.id == fund_on,
        )
        for account, balance in group.items()
    )
    return PlanLine(
        seq=seq,
        payer_id=transfer.payer.id or 0,
        payer=account_name(transfer.payer, names),
        receiver_id=transfer.receiver.id or 0,
        receiver=account_name(transfer.receiver, names),
        net=transfer.net,
        gross=transfer.gross,
        fee=transfer.fee,
        why=why,
    )


def _count_sales(session: Session, period_id: int) -> int:
    return session.execute(
        select(func.count(JournalEntry.id)).where(
            JournalEntry.period_id == period_id, JournalEntry.kind.in_(PER_SALE_KINDS)
        )
    ).scalar_one()


def preview_close(session: Session, actor_id: int, clan_id: int, period_id: int) -> ClosePreview:
    """The close page of a period (officers): the plan to confirm, or the confirmed plan."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    clan = session.get(Clan, clan_id)
    period = load_period(session, clan_id, period_id)
    preview = build_preview(session, clan, period)  # type: ignore[arg-type]
    if period.status == PeriodStatus.CLOSED:
        preview = _with_stored_transfers(session, preview)
    return preview


def _with_stored_transfers(session: Session, preview: ClosePreview) -> ClosePreview:
    """A closed period shows the transfers its last close created, with their status."""
    period = preview.period
    rows = (
        session.execute(
            select(Transfer)
            .where(Transfer.period_id == period.id, Transfer.close_round == period.close_count)
            .order_by(Transfer.seq)
        )
        .scalars()
        .all()
    )
    names = character_names(session, preview.clan.id)
    stored = [
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


def confirm_close(
    session: Session,
    actor_id: int,
    clan_id: int,
    period_id: int,
    expected_digest: str | None = None,
) -> Period:
    """Close the period: lock it, create its transfers, open the next period.

    Args:
        expected_digest: the :attr:`ClosePreview.digest` the officer looked at; if the
            balances changed since (a late sale), the close is refused so nobody confirms a
            plan they have not seen.

    Raises:
        Conflict: already closed, an earlier period still open, or the plan changed.
        ValidationError: the plan cannot be made (no treasurer for a fund balance...).
    """
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    audit.set_actor(session, actor_id)
    clan = session.get(Clan, clan_id)
    load_period(session, clan_id, period_id)
    try:
        period = lock_period(session, period_id, exclusive=True)
        if period.status == PeriodStatus.CLOSED:
            raise Conflict(N_("This period is already closed."))
        _require_earlier_closed(session, clan, period)  # type: ignore[arg-type]
        preview = build_preview(session, clan, period)  # type: ignore[arg-type]
        if preview.problems:
            raise ValidationError(preview.problems[0])
        if expected_digest is not None and expected_digest != preview.digest:
            raise Conflict(N_("The balances changed since you opened the plan: review it again."))
        _write_close(session, clan, period, preview, actor_id)  # type: ignore[arg-type]
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return period


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
        Line(line.account.kind.value, line.account.id, line.balance)
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
    period.status = PeriodStatus.CLOSED
    period.closed_at = utcnow()
    period.closed_by_id = actor_id
    period.close_count = close_round
    session.flush()


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
            JournalEntry.kind == EntryKind.OPENING,
            JournalEntry.source_type == "period",
            JournalEntry.source_id == period.id,
            JournalEntry.id.not_in(reversed_ids),
        )
        .options(selectinload(JournalEntry.postings))
    ).scalars()
    for entry in openings:
        post_entry(
            session,
            clan,
            kind=EntryKind.REVERSAL,
            lines=[Line(p.account_kind, p.character_id, -p.amount) for p in entry.postings],
            occurred_at=utcnow(),
            actor_id=actor_id,
            memo=f"reopen {period.starts_on:%Y-%m}",
            reason=reason,
            source=("period", period.id),
            idempotency_key=f"reopen:{entry.id}",
            period=nxt,
            reverses=entry,
        )
