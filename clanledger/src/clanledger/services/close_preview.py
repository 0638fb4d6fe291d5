"""The close preview: what closing a period would do, computed without writing anything.

Balances come from the period's postings; transfers planned by earlier closes and not posted
yet are "committed" and planned around. The clan fund's balance is settled on the
treasurer's character (``Clan.treasurer_character_id``, else the leader's first character);
without one, the fund is a carried account. The plan is the domain planner's (fewest
fee-aware transfers, carry threshold), and the saving compares its fees with paying every
share right after each sale.

Characters that share one wallet (:mod:`clanledger.services.wallets`) are planned as one:
the plan nets per wallet, each wallet's transfers go through one of its characters (its
trader), and the close posts a fee-free wallet netting entry that moves the other
characters' balances onto the trader (:mod:`clanledger.domain.wallets`). The close page also
shows what the wallets save against the plan netted per character.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from clanledger.domain.collation import sort_key
from clanledger.domain.fees import FeePolicy, transfer_terms
from clanledger.domain.ledger import FUND, Account, AccountKind, account_label, member
from clanledger.domain.messages import N_
from clanledger.domain.money import Rate
from clanledger.domain.savings import Savings, netting_saving
from clanledger.domain.settlement import (
    PlannedTransfer,
    SettlementPlan,
    explain_transfer,
    plan_settlement,
)
from clanledger.domain.wallets import (
    WalletSaving,
    members_of,
    trader_transfers,
    traders,
    wallet_balances,
    wallet_netting,
    wallet_of,
    wallet_saving,
)
from clanledger.models import (
    Character,
    Clan,
    Membership,
    MembershipStatus,
    Period,
    PeriodStatus,
    Role,
    Transfer,
    TransferStatus,
)
from clanledger.services.journal import member_balances
from clanledger.services.payouts import count_sales, per_sale_cost_of
from clanledger.services.rates import rates_on
from clanledger.services.transfers import account_of, committed_effects, transfer_terms_paid
from clanledger.services.wallets import wallet_map


@dataclass(frozen=True)
class BalanceLine:
    """One account's closing balance and what the close does with it."""

    account: Account
    name: str
    balance: int  # sum of the period's postings
    committed: int  # moved by transfers planned earlier and not posted yet
    carried: int  # carried forward (under the threshold), by the plan
    netting: int = 0  # moved inside its wallet, fee-free, onto the wallet's trader

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
    lower_bound: int | None = None  # fewest transfers possible (proven); None when stored

    @property
    def excess(self) -> int | None:
        """At most this many transfers more than the fewest (0: proven fewest)."""
        return None if self.lower_bound is None else len(self.transfers) - self.lower_bound

    wallet_saving: WalletSaving | None = None  # None: no wallet groups two characters
    wallets: tuple[tuple[int, int], ...] = ()  # (character id, its wallet's anchor id)

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
        # By account, not in the shown order: a reader's language or a rename changes no plan.
        by_account = sorted(self.lines, key=lambda line: line.account)
        parts += [f"{line.account}={line.to_settle}" for line in by_account]
        parts += [f"w{character}>{anchor}" for character, anchor in self.wallets]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    @property
    def plan_code(self) -> str:
        """The transfers as ``payer>receiver:net`` links (character ids): the close form
        carries them so the confirm creates the plan the officer saw (see
        :func:`parse_plan_code`)."""
        return ",".join(f"{t.payer_id}>{t.receiver_id}:{t.net}" for t in self.transfers)


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
            Membership.status == MembershipStatus.ACTIVE,
            Character.clan_id == clan.id,
        )
        .order_by(Character.active.desc(), Character.id)
        .limit(1)
    ).scalar_one_or_none()


def character_names(session: Session, clan_id: int) -> dict[int, str]:
    rows = session.execute(select(Character.id, Character.name).where(Character.clan_id == clan_id))
    return dict(rows.all())


def account_name(account: Account, names: dict[int, str]) -> str:
    return account_label(account.kind, names.get(account.id or 0, f"#{account.id}"), str)


def in_reading_order(lines: list[BalanceLine]) -> list[BalanceLine]:
    """Members by name in the reader's order, then the clan's own accounts."""
    return sorted(
        lines, key=lambda line: (line.account.kind is not AccountKind.MEMBER, sort_key(line.name))
    )


def period_balances(session: Session, clan_id: int, period_id: int) -> dict[Account, int]:
    """Each account's balance from the period's postings (zero balances left out)."""
    totals = member_balances(session, clan_id, period_id)
    return {account_of(k, c): v for (k, c), v in sorted(totals.items(), key=str) if v}


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


PlanLinks = tuple[tuple[Account, Account, int], ...]
"""A plan as ``(payer, receiver, net)`` links: what the close form carries to the confirm."""


@lru_cache(maxsize=64)
def cached_plan(
    balances: tuple[tuple[Account, int], ...],
    rate: Rate,
    policy: FeePolicy,
    threshold: int,
    previous: PlanLinks = (),
) -> SettlementPlan[Account]:
    """The domain's plan for these exact inputs, remembered: the search for the fewest
    transfers among a hundred balances takes a noticeable fraction of a second, and the same
    balances are planned again for every view of the close page and for the confirm.

    ``previous`` re-plans around the links of a plan already shown: the domain keeps them
    where they still settle the balances (see :func:`plan_settlement`)."""
    links = [
        PlannedTransfer(payer, receiver, net, *transfer_terms(net, rate, policy))
        for payer, receiver, net in previous
    ]
    return plan_settlement(
        dict(balances),
        rate,
        policy,
        carry_threshold=threshold,
        carry_accounts=(FUND,),
        previous=links or None,
    )


def parse_plan_code(code: str) -> PlanLinks:
    """The links of :attr:`ClosePreview.plan_code`; ``()`` for text that is not one."""
    links = []
    for part in filter(None, code.split(",")):
        match = _PLAN_LINK.fullmatch(part)
        if match is None:
            return ()
        payer, receiver, net = (int(group) for group in match.groups())
        links.append((member(payer), member(receiver), net))
    return tuple(links)


_PLAN_LINK = re.compile(r"(\d{1,18})>(\d{1,18}):(\d{1,18})")


@dataclass(frozen=True)
class _PlanState:
    """What the plan of a period is made from, and the plan itself."""

    rate: Rate
    policy: FeePolicy
    threshold: int
    treasurer: int | None
    balances: dict[Account, int]
    committed: dict[Account, int]
    problems: list[str]
    plan: SettlementPlan[Account]  # between wallets (a character on its own is one)
    wallets: dict[Account, Account] = field(default_factory=dict)
    to_plan: dict[Account, int] = field(default_factory=dict)  # per character
    per_character: SettlementPlan[Account] | None = None  # None: no wallet groups two

    @property
    def traders(self) -> dict[Account, Account]:
        return traders(self.to_plan, self.wallets)

    @property
    def netting(self) -> dict[Account, int]:
        return wallet_netting(self.to_plan, self.wallets)


def _plan_state(
    session: Session, clan: Clan, period: Period, previous: PlanLinks = ()
) -> _PlanState:
    rate = rates_on(session, clan.id, period.ends_on).fee
    policy = FeePolicy(clan.fee_policy)
    threshold = int(clan.carry_threshold or 0)
    treasurer = treasurer_of(session, clan)
    balances = period_balances(session, clan.id, period.id)
    committed = committed_effects(session, clan, period)
    to_plan, problems = _plan_inputs(balances, committed, treasurer)
    to_plan = {k: v for k, v in to_plan.items() if k.kind is not AccountKind.FEES}
    wallets = wallet_map(session, clan.id)
    links = tuple((wallet_of(p, wallets), wallet_of(r, wallets), n) for p, r, n in previous)
    plan = cached_plan(
        tuple(sorted(wallet_balances(to_plan, wallets).items())), rate, policy, threshold, links
    )
    per_character = None
    if any(wallet_of(k, wallets) != k for k in to_plan):
        per_character = cached_plan(tuple(sorted(to_plan.items())), rate, policy, threshold)
    return _PlanState(
        rate,
        policy,
        threshold,
        treasurer,
        balances,
        committed,
        problems,
        plan,
        wallets,
        to_plan,
        per_character,
    )


def period_savings(session: Session, clan: Clan, period: Period) -> Savings:
    """What netting saves in ``period``: the close preview's figure (same plan, fee rate and
    treasurer), without the names and explanations only the close page shows. A closed
    period's is the one its close stored."""
    if period.status == PeriodStatus.CLOSED and period.close_figures:
        return Savings(**period.close_figures["savings"])
    state = _plan_state(session, clan, period)
    return _savings(session, clan, period, state)


def _savings(session: Session, clan: Clan, period: Period, state: _PlanState) -> Savings:
    """The domain's one definition (:func:`domain.savings.netting_saving`) fed from the
    ledger: the period's sales, its plan, its transfers paid before a reopen, and the member
    balances carried in (by the previous close) and out (by this plan)."""
    cost = per_sale_cost_of(session, clan.id, period.id, state.treasurer, state.rate, state.policy)
    plan = (state.plan.total_fees, len(state.plan.transfers))
    carried_out = {k: v for k, v in state.plan.carried.items() if k.kind is AccountKind.MEMBER}
    return netting_saving(
        cost,
        plan,
        paid_before_reopen(session, period),
        carried_into(session, clan, period),
        carried_out,
        state.rate,
        state.policy,
    )


def _wallet_saving(state: _PlanState) -> WalletSaving | None:
    """The per-character plan against the per-wallet plan (None: no wallet to compare)."""
    if state.per_character is None:
        return None
    return wallet_saving(
        state.per_character,
        state.plan,
        state.rate,
        state.policy,
        priced=lambda account: account.kind is AccountKind.MEMBER,
    )


def wallet_names(wallets: dict[Account, Account], names: dict[int, str]) -> dict[Account, str]:
    """A wallet's name: its characters' names joined by " + " (only wallets of several)."""
    grouped = members_of(set(wallets) | set(wallets.values()), wallets)
    return {
        anchor: " + ".join(account_name(k, names) for k in keys)
        for anchor, keys in grouped.items()
        if len(keys) > 1
    }


def paid_before_reopen(session: Session, period: Period) -> tuple[int, int]:
    """``(fees, count)`` of the period's transfers kept from an earlier close (a reopen
    keeps the paid ones): fees at the price actually paid."""
    query = select(Transfer).where(Transfer.period_id == period.id)
    if period.status == PeriodStatus.CLOSED:
        query = query.where(Transfer.close_round < period.close_count)
    kept = session.execute(query).scalars().all()
    return sum(transfer_terms_paid(t)[1] for t in kept), len(kept)


def carried_into(session: Session, clan: Clan, period: Period) -> dict[Account, int]:
    """Member balances the previous period's close carried forward into ``period``."""
    previous = session.execute(
        select(Period).where(
            Period.clan_id == clan.id,
            Period.ends_on == period.starts_on - timedelta(days=1),
            Period.status == PeriodStatus.CLOSED,
        )
    ).scalar_one_or_none()
    if previous is None or not previous.close_figures:
        return {}
    carried: dict[Account, int] = {}
    for kind, account_id, _balance, _committed, carry in previous.close_figures["lines"]:
        if kind == AccountKind.MEMBER.value and carry:
            carried[account_of(kind, account_id)] = carry
    return carried


def build_preview(
    session: Session, clan: Clan, period: Period, previous: PlanLinks = ()
) -> ClosePreview:
    """The plan that closing ``period`` now would confirm (no permission check, no writes).

    Without a treasurer character the fund is a carried account: it stays with the members
    who hold its diamonds. ``previous``: the links of a plan shown earlier, kept where they
    still settle the balances.
    """
    state = _plan_state(session, clan, period, previous)
    balances, committed, treasurer = state.balances, state.committed, state.treasurer
    names = character_names(session, clan.id)
    chosen, netting = state.traders, state.netting
    carried = {chosen.get(k, k): v for k, v in state.plan.carried.items()}
    lines = in_reading_order(
        [
            BalanceLine(
                account=account,
                name=account_name(account, names),
                balance=balances.get(account, 0),
                committed=committed.get(account, 0),
                carried=carried.get(account, 0),
                netting=netting.get(account, 0),
            )
            for account in set(balances) | set(committed) | set(carried) | set(netting)
        ]
    )
    fund_on = None
    if treasurer is not None and balances.get(FUND, 0) + committed.get(FUND, 0):
        fund_on = wallet_of(member(treasurer), state.wallets)
    shown = {
        **{k: account_name(k, names) for k in state.to_plan},
        **wallet_names(state.wallets, names),
    }
    traded = trader_transfers(state.plan, chosen)
    transfers = [
        _plan_line(seq, t, explain_transfer(state.plan, w), names, shown, fund_on)
        for seq, (t, w) in enumerate(zip(traded, state.plan.transfers, strict=True), start=1)
    ]
    return ClosePreview(
        clan=clan,
        period=period,
        rate=state.rate,
        policy=state.policy,
        threshold=state.threshold,
        treasurer_id=treasurer,
        treasurer=names.get(treasurer or 0, ""),
        fund_balance=balances.get(FUND, 0),
        lines=lines,
        transfers=transfers,
        savings=_savings(session, clan, period, state),
        sales=count_sales(session, period.id),
        problems=state.problems,
        lower_bound=state.plan.lower_bound,
        wallet_saving=_wallet_saving(state),
        wallets=tuple(sorted((k.id or 0, a.id or 0) for k, a in state.wallets.items())),
    )


def _plan_line(
    seq: int,
    transfer: PlannedTransfer[Account],
    group: dict[Account, int],
    names: dict[int, str],
    shown: dict[Account, str],
    fund_on: Account | None,
) -> PlanLine:
    """One transfer between two characters; ``group``: the wallet balances it settles,
    named by ``shown`` (a wallet of several by its characters' names)."""
    why = tuple(
        WhyItem(
            account.kind.value,
            shown.get(account) or account_name(account, names),
            int(balance),
            account == fund_on,
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


def figures_of(preview: ClosePreview) -> dict[str, object]:
    """What a close stores on its period (:attr:`Period.close_figures`): the fee rate and
    policy it planned with, the balances with what the plan did with them, the number of
    sales and the saving. A closed period's pages read these (:func:`stored_preview`), so
    a rate saved later, or any other edit, never changes a closed month's figures."""
    return {
        "fee_bps": preview.rate.bps,
        "policy": preview.policy.value,
        "threshold": preview.threshold,
        "treasurer_id": preview.treasurer_id,
        "fund_balance": preview.fund_balance,
        "sales": preview.sales,
        "lines": [
            [line.account.kind.value, line.account.id, line.balance, line.committed, line.carried]
            for line in preview.lines
        ],
        "savings": asdict(preview.savings),
        "netting": [[line.account.id, line.netting] for line in preview.lines if line.netting],
        "wallet_saving": asdict(preview.wallet_saving) if preview.wallet_saving else None,
        "wallets": [list(pair) for pair in preview.wallets],
    }


def stored_preview(
    session: Session, clan: Clan, period: Period, transfers: list[PlanLine]
) -> ClosePreview:
    """The close page of a closed period from the figures its close stored, with the
    ``transfers`` it created (and their status now)."""
    figures = period.close_figures or {}
    names = character_names(session, clan.id)
    treasurer = figures.get("treasurer_id")
    netting = dict(figures.get("netting") or [])
    lines = []
    for kind, account_id, balance, committed, carried in figures.get("lines", []):
        account = account_of(kind, account_id)
        moved = netting.get(account_id, 0) if kind == AccountKind.MEMBER.value else 0
        lines.append(
            BalanceLine(account, account_name(account, names), balance, committed, carried, moved)
        )
    wallet_figures = figures.get("wallet_saving")
    return ClosePreview(
        clan=clan,
        period=period,
        rate=Rate(figures["fee_bps"]),
        policy=FeePolicy(figures["policy"]),
        threshold=figures["threshold"],
        treasurer_id=treasurer,
        treasurer=names.get(treasurer or 0, ""),
        fund_balance=figures["fund_balance"],
        lines=in_reading_order(lines),
        transfers=transfers,
        savings=Savings(**figures["savings"]),
        sales=figures["sales"],
        wallet_saving=WalletSaving(**wallet_figures) if wallet_figures else None,
        wallets=tuple(tuple(pair) for pair in figures.get("wallets") or ()),
    )
