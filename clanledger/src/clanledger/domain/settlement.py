"""Monthly netting: turn net balances into the fewest fee-aware transfers.

Sign convention: balance > 0 is a creditor (receives), < 0 a debtor (pays). The balances
given to :func:`plan_settlement` must sum to exactly 0: include the clan fund as an account
(settle it to a treasurer's character, or list it in ``carry_accounts`` to leave it in the
hands of the members who hold it). A non-zero sum raises :class:`UnbalancedEntry`.

How a plan is built:

1. **Carry-forward.** Accounts in ``carry_accounts`` and balances with
   ``0 < |balance| < carry_threshold`` do not move this period. What they leave unbalanced
   is carried by the largest balances on the other side (largest first, ties in key order):
   if small creditors worth 12 wait, the largest debtors pay 12 less now and open the next
   period owing it. Everything else is settled exactly.
2. **Groups.** The balances to settle are split into the largest number of disjoint
   zero-sum groups (:mod:`~clanledger.domain.group_search`). A group of ``m`` members needs
   ``m - 1`` transfers, so ``n`` balances in ``g`` groups need ``n - g``. The search proves
   an upper bound on ``g``, so every plan carries a proven ``lower_bound`` on the transfers
   and says whether it meets it (``proven_optimal``); it is never worse than greedy.
3. **Transfers in a group** follow the "north-west corner" rule: debtors and creditors in key
   order, each debtor paying the next creditors in turn. Paying any one transfer early only
   removes that transfer from the rule's output, which keeps the rest of the plan stable.
4. **Fees.** Each transfer of ``net`` gets its listing price and fee from
   :func:`~clanledger.domain.fees.transfer_terms`: the receiver lists a junk item at
   ``gross``, the payer buys it, the exchange keeps ``fee``.

**Stable re-plans.** With ``previous=`` (after a payment, a partial payment or a late
sale) the plan has as few transfers as a fresh plan of the new balances. A previous group is
*intact* when its members still sum to 0 and its transfers, amounts recomputed from the new
balances, settle it without a negative amount (a paid transfer drops out and splits its
group in two intact parts). Every intact group keeps its transfers unless keeping all of
them would need more transfers than the fresh plan; then the kept groups are a maximal set:
each intact group that is re-planned could not have been kept beside the kept ones without
needing more transfers (exact wherever the search is, see ``lower_bound``; past the time
budget the groups not yet checked are tried once all together). The re-planned balances
reuse earlier transfers inside each new group where those still settle it.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from clanledger.domain.errors import InvalidAmount, UnbalancedEntry
from clanledger.domain.fees import FeePolicy, transfer_terms
from clanledger.domain.group_search import best_groups
from clanledger.domain.grouping import EXACT_LIMIT, MULTISET_STATES, multiset_states
from clanledger.domain.money import Rate, require_diamonds
from clanledger.domain.ordering import canonical_order
from clanledger.domain.payments import (
    Payment,
    components,
    corner_transfers,
    greedy_transfers,
    tree_flows,
)

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class PlannedTransfer(Generic[K]):
    """One settlement transfer through the exchange.

    The receiver lists a junk item at ``gross``; the payer buys it; the exchange keeps
    ``fee``; the receiver gets :attr:`received`.

    Attributes:
        payer: the debtor who buys the listing.
        receiver: the creditor who lists the item.
        net: the balance this transfer settles (the payer's debt to the receiver).
        gross: the listing price the payer pays.
        fee: what the exchange keeps from ``gross``.
    """

    payer: K
    receiver: K
    net: int
    gross: int
    fee: int

    @property
    def received(self) -> int:
        """What the receiver ends with: ``net`` (PAYER, FUND) or ``net - fee`` (RECEIVER)."""
        return self.gross - self.fee


@dataclass(frozen=True)
class SettlementPlan(Generic[K]):
    """The transfers that settle a period, and what waits for the next one.

    Attributes:
        transfers: the transfers, ordered by payer then receiver (in key order), so that
            removing a paid transfer leaves the others in place.
        carried: account -> balance left for the next period (sums to 0 with nothing else).
        groups: the zero-sum groups settled, each as account -> balance; every transfer runs
            inside one group (see :func:`explain_transfer`).
        rate: the exchange fee rate used for the prices.
        policy: who bears the fee.
        method: ``"exact"`` (proven fewest), ``"search"`` (the search's best, within
            :attr:`excess` of the fewest) or ``"greedy"`` (greedy was shorter than the search).
        lower_bound: the fewest transfers any plan of these balances can have (proven).
    """

    transfers: tuple[PlannedTransfer[K], ...]
    carried: dict[K, int]
    groups: tuple[dict[K, int], ...]
    rate: Rate = field(default_factory=lambda: Rate(0))
    policy: FeePolicy = FeePolicy.PAYER
    method: str = "exact"
    lower_bound: int = 0

    @property
    def proven_optimal(self) -> bool:
        """True when no plan can have fewer transfers (the count meets the lower bound)."""
        return len(self.transfers) == self.lower_bound

    @property
    def excess(self) -> int:
        """At most this many transfers more than the fewest possible (0 when proven)."""
        return len(self.transfers) - self.lower_bound

    @property
    def total_fees(self) -> int:
        """Diamonds the exchange keeps over the whole plan."""
        return sum(t.fee for t in self.transfers)

    @property
    def settled(self) -> dict[K, int]:
        """The balances this plan settles (the input minus what is carried)."""
        return {k: v for group in self.groups for k, v in group.items()}

    def transfers_of(self, account: K) -> tuple[PlannedTransfer[K], ...]:
        """The transfers ``account`` pays or receives."""
        return tuple(t for t in self.transfers if account in (t.payer, t.receiver))


def min_transfers_exact(balances: Mapping[K, int]) -> list[Payment[K]]:
    """The fewest payments that settle ``balances`` (exact; up to 20 non-zero balances after
    opposite pairs ``+x``/``-x`` are taken out, or more when equal balances keep the
    multiset programme small).

    Raises:
        UnbalancedEntry: the balances do not sum to 0.
        InvalidAmount: too many balances for the exact search (use :func:`plan_settlement`).
    """
    _check_sum(balances)
    if not _exact_fits(balances.values()):
        raise InvalidAmount(
            f"{len(balances)} balances are too many for the exact search "
            f"(at most {EXACT_LIMIT} after opposite pairs); use plan_settlement"
        )
    fresh = _fresh(balances, deadline=time.perf_counter())
    return [p for _, group_payments in fresh.parts for p in group_payments]


def plan_settlement(
    balances: Mapping[K, int],
    rate: Rate,
    policy: FeePolicy,
    carry_threshold: int = 0,
    time_budget: float = 1.0,
    *,
    carry_accounts: Collection[K] = (),
    previous: SettlementPlan[K] | Iterable[PlannedTransfer[K]] | None = None,
) -> SettlementPlan[K]:
    """Plan the fewest fee-aware transfers that settle ``balances``.

    Args:
        balances: account -> balance (> 0 receives, < 0 pays); must sum to 0.
        rate: the exchange fee rate in force.
        policy: who bears the fee (see :class:`~clanledger.domain.fees.FeePolicy`).
        carry_threshold: balances with ``0 < |balance| < carry_threshold`` wait for the next
            period instead of moving (0 carries nothing).
        time_budget: seconds the search may take when the balances are too many for the
            exact programmes (halved with ``previous``). A search cut short by it returns
            its best so far (never worse than greedy; see ``lower_bound``).
        carry_accounts: accounts that never move this period, whatever their size (the clan
            fund when it has no character of its own).
        previous: an earlier plan, or just its transfers as stored. The re-plan has as few
            transfers as a fresh plan, and keeps every previous group the new balances leave
            intact (it still sums to 0 and its transfers, amounts recomputed, still settle
            it; paid ones drop out) unless keeping all of them would cost a transfer. Then
            the kept groups are maximal: each group re-planned could not have been kept
            beside the kept ones with that count. See :func:`_replan`.

    Raises:
        UnbalancedEntry: the balances do not sum to 0.
        InvalidAmount: a balance is not a whole number, or ``carry_threshold`` is negative.
    """
    _check_sum(balances)
    require_diamonds(carry_threshold, "carry threshold")
    carried = _carried(balances, carry_threshold, carry_accounts)
    to_settle = {k: v - carried.get(k, 0) for k, v in balances.items() if v != carried.get(k, 0)}
    # a re-plan gives half the budget to the fresh plan and half to keeping earlier groups
    search_budget = time_budget if previous is None else time_budget / 2
    fresh = _fresh(to_settle, _after(search_budget))
    parts = fresh.parts
    if previous is not None:
        links = previous.transfers if isinstance(previous, SettlementPlan) else tuple(previous)
        parts = _replan(links, to_settle, fresh, time_budget - search_budget)
    rank = {k: i for i, k in enumerate(canonical_order(to_settle))}
    payments = sorted(
        (p for _, group_payments in parts for p in group_payments),
        key=lambda p: (rank[p.payer], rank[p.receiver]),
    )
    transfers = tuple(
        PlannedTransfer(p.payer, p.receiver, p.amount, *transfer_terms(p.amount, rate, policy))
        for p in payments
    )
    groups = tuple(sorted((g for g, _ in parts), key=lambda g: min(rank[k] for k in g)))
    method = "exact" if len(transfers) == fresh.lower_bound else fresh.method
    return SettlementPlan(
        transfers, carried, groups, rate, FeePolicy(policy), method, fresh.lower_bound
    )


def explain_transfer(plan: SettlementPlan[K], transfer: PlannedTransfer[K]) -> dict[K, int]:
    """The balances a transfer helps settle: the zero-sum group it belongs to.

    This answers "why do I pay someone I never traded with?": the payer's debt and the
    receiver's credit sit in one group whose balances cancel out, and the plan settles the
    group in ``len(group) - 1`` transfers instead of one per pair of traders.

    Raises:
        InvalidAmount: the transfer is not part of the plan.
    """
    if transfer not in plan.transfers:
        raise InvalidAmount(f"{transfer} is not a transfer of this plan")
    for group in plan.groups:
        if transfer.payer in group and transfer.receiver in group:
            return dict(group)
    raise AssertionError("every planned transfer lies inside one group")  # pragma: no cover


def _check_sum(balances: Mapping[K, int]) -> None:
    for key, value in balances.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidAmount(f"the balance of {key} must be whole diamonds, got {value!r}")
    total = sum(balances.values())
    if total:
        raise UnbalancedEntry(
            f"balances to settle must sum to 0 but sum to {total:+d}: include every account, "
            "the clan fund too (list it in carry_accounts to leave it where it is)"
        )


def _carried(
    balances: Mapping[K, int], threshold: int, carry_accounts: Collection[K]
) -> dict[K, int]:
    """What waits for the next period: the carried accounts, the small balances, and the
    share of the largest opposite balances that keeps the rest summing to 0."""
    keys = canonical_order(balances)
    carried = {
        k: balances[k]
        for k in keys
        if balances[k] and (k in carry_accounts or abs(balances[k]) < threshold)
    }
    residue = sum(carried.values())  # the rest sums to -residue; the other side absorbs it
    sign = -1 if residue > 0 else 1
    absorbers = sorted(
        (k for k in keys if k not in carried and balances[k] * sign > 0),
        key=lambda k: -abs(balances[k]),
    )
    for k in absorbers:
        if residue == 0:
            break
        part = sign * min(abs(balances[k]), abs(residue))
        carried[k] = part
        residue += part
    return carried


def _exact_fits(values: Iterable[int]) -> bool:
    counts: dict[int, int] = {}
    for v in values:
        if v:
            counts[v] = counts.get(v, 0) + 1
    paired = {v: min(n, counts.get(-v, 0)) for v, n in counts.items()}
    rest = [v for v, n in counts.items() for _ in range(n - paired[v])]
    return len(rest) <= EXACT_LIMIT or multiset_states(rest) <= MULTISET_STATES


Part = tuple[dict[K, int], list[Payment[K]]]


@dataclass(frozen=True)
class _Fresh(Generic[K]):
    """A plan made from the balances alone: its groups with their payments, the method, and
    the fewest transfers possible (proven)."""

    parts: list[Part[K]]
    method: str
    lower_bound: int


def _fresh(balances: Mapping[K, int], deadline: float) -> _Fresh[K]:
    """Plan ``balances`` from scratch: the most zero-sum groups the search finds by
    ``deadline`` (or greedy, if it needs fewer transfers), settled by the corner rule."""
    keys = canonical_order(k for k, v in balances.items() if v)
    values = [balances[k] for k in keys]
    found = best_groups(values, deadline)
    lower_bound = len(values) - found.upper_bound
    groups = [{keys[i]: values[i] for i in sorted(group)} for group in found.groups]
    groups.sort(key=lambda g: keys.index(next(iter(g))))
    parts = [(group, _group_payments(group)) for group in groups]
    method = "exact" if _count(parts) == lower_bound else "search"
    greedy = greedy_transfers(balances)
    if len(greedy) < _count(parts):
        method, parts = "greedy", _parts(balances, greedy)
    return _Fresh(parts, method, lower_bound)


def _group_payments(group: Mapping[K, int]) -> list[Payment[K]]:
    """The corner rule (stable), unless greedy finds fewer in a group that is not minimal
    (only a group the search could not split can be)."""
    corner = corner_transfers(group)
    if len(corner) <= 2:
        return corner
    greedy = greedy_transfers(group)
    return greedy if len(greedy) < len(corner) else corner


def _count(parts: Sequence[Part[K]]) -> int:
    return sum(len(payments) for _, payments in parts)


def _parts(balances: Mapping[K, int], payments: Sequence[Payment[K]]) -> list[Part[K]]:
    """Split ``payments`` into the groups they settle (see :func:`components`)."""
    return components({k: v for k, v in balances.items() if v}, payments)


def _intact(
    links: Sequence[PlannedTransfer[K]], balances: Mapping[K, int]
) -> tuple[list[Part[K]], dict[K, int]]:
    """The previous transfers that still settle their group, and the balances left over.

    The previous transfers form trees (one per group), so the amount on every transfer
    follows from the new balances; a transfer whose amount falls to 0 was paid and drops
    out, which splits its tree in two. A group that no longer sums to 0, or whose amounts
    would turn negative, is left over together with any balance the transfers do not reach.
    """
    everyone = {k: balances.get(k, 0) for t in links for k in (t.payer, t.receiver)}
    parts: list[Part[K]] = []
    dirty = {k: v for k, v in balances.items() if v and k not in everyone}
    for group, group_links in components(everyone, links):
        flows = tree_flows(group, group_links) if sum(group.values()) == 0 else None
        if flows is None:
            dirty.update((k, v) for k, v in group.items() if v)
            continue
        live = [Payment(t.payer, t.receiver, f) for t, f in zip(group_links, flows, strict=True)]
        parts.extend(_parts(group, [p for p in live if p.amount]))
    return parts, dirty


def _replan(
    links: Sequence[PlannedTransfer[K]],
    balances: Mapping[K, int],
    fresh: _Fresh[K],
    time_budget: float,
) -> list[Part[K]]:
    """Keep every intact previous group unless that costs transfers; then keep a maximal set.

    With every intact group kept and the rest planned afresh, the plan is used when it is
    no longer than the fresh plan. Otherwise the intact groups (most transfers first, then
    in key order) are tried in runs, halving a run that does not fit down to single groups:
    a run is kept when the plan of what is left, beside it and the groups kept before it,
    still matches the fresh plan's count, so a group given up could not have stayed beside
    those kept. What is left is planned afresh, reusing earlier transfers inside each new
    group where they still settle it. Past ``time_budget`` the groups still waiting are
    tried once all together, and no more.
    """
    deadline = _after(time_budget)
    intact, dirty = _intact(links, balances)
    kept_all = intact + _reuse_inside(_fresh(dirty, _after(time_budget / 4)).parts, links)
    target = min(_count(fresh.parts), _count(kept_all))
    if _count(kept_all) <= target:
        return kept_all
    rank = {k: i for i, k in enumerate(canonical_order(balances))}
    order = sorted(intact, key=lambda p: (-len(p[1]), min(rank[k] for k in p[0])))
    kept: list[Part[K]] = []
    rest_parts = fresh.parts
    runs = [order[: len(order) // 2], order[len(order) // 2 :]]
    while runs and time.perf_counter() < deadline:
        run = runs.pop(0)
        if not run:
            continue
        trial = [*kept, *run]
        taken = {k for group, _ in trial for k in group}
        left = (deadline - time.perf_counter()) / (len(runs) + 2)
        rest = _fresh({k: v for k, v in balances.items() if k not in taken}, _after(left))
        if _count(trial) + _count(rest.parts) <= target:
            kept, rest_parts = trial, rest.parts
        elif len(run) > 1:
            runs[:0] = [run[: len(run) // 2], run[len(run) // 2 :]]
    kept, rest_parts = _last_run(kept, rest_parts, [p for run in runs for p in run], balances)
    return kept + _reuse_inside(rest_parts, links)


def _last_run(
    kept: list[Part[K]],
    rest_parts: list[Part[K]],
    waiting: list[Part[K]],
    balances: Mapping[K, int],
) -> tuple[list[Part[K]], list[Part[K]]]:
    """When time ran out with groups still waiting, one more try to keep them all at once."""
    if not waiting:
        return kept, rest_parts
    target = _count(kept) + _count(rest_parts)
    trial = [*kept, *waiting]
    taken = {k for group, _ in trial for k in group}
    rest = _fresh({k: v for k, v in balances.items() if k not in taken}, _after(0))
    if _count(trial) + _count(rest.parts) <= target:
        return trial, rest.parts
    return kept, rest_parts


def _after(seconds: float) -> float:
    return time.perf_counter() + seconds


def _reuse_inside(parts: list[Part[K]], links: Sequence[PlannedTransfer[K]]) -> list[Part[K]]:
    """Settle each new group with the earlier transfers among its members where they form
    a tree that still settles it with positive amounts; else keep the corner rule's."""
    reused: list[Part[K]] = []
    for group, payments in parts:
        inside = [t for t in links if t.payer in group and t.receiver in group]
        flows = tree_flows(dict(group), inside) if len(inside) == len(group) - 1 else None
        if flows is not None and all(flows):
            payments = [Payment(t.payer, t.receiver, f) for t, f in zip(inside, flows, strict=True)]
        reused.append((group, payments))
    return reused
