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
   zero-sum groups (:mod:`~clanledger.domain.grouping`): exact for up to 20 non-zero
   balances after opposite pairs are taken out, a heuristic above that which is never worse
   than greedy. A group of ``m`` members needs ``m - 1`` transfers, so this is the fewest.
3. **Transfers in a group** follow the "north-west corner" rule: debtors and creditors in key
   order, each debtor paying the next creditors in turn. Paying any one transfer early only
   removes that transfer from the rule's output, which keeps the rest of the plan stable.
4. **Fees.** Each transfer of ``net`` gets its listing price and fee from
   :func:`~clanledger.domain.fees.transfer_terms`: the receiver lists a junk item at
   ``gross``, the payer buys it, the exchange keeps ``fee``.

Re-planning with ``previous=`` keeps the previous plan's transfers (amounts updated, paid
ones dropped) whenever they still settle the new balances exactly with the fewest transfers.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from clanledger.domain.errors import InvalidAmount, UnbalancedEntry
from clanledger.domain.fees import FeePolicy, transfer_terms
from clanledger.domain.grouping import EXACT_LIMIT, exact_groups, heuristic_groups
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
        method: ``"exact"`` (proven fewest), ``"heuristic"`` or ``"greedy"``.
    """

    transfers: tuple[PlannedTransfer[K], ...]
    carried: dict[K, int]
    groups: tuple[dict[K, int], ...]
    rate: Rate = field(default_factory=lambda: Rate(0))
    policy: FeePolicy = FeePolicy.PAYER
    method: str = "exact"

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
    opposite pairs ``+x``/``-x`` are taken out).

    Raises:
        UnbalancedEntry: the balances do not sum to 0.
        InvalidAmount: too many balances for the exact search (use :func:`plan_settlement`).
    """
    _check_sum(balances)
    groups = _groups(balances, exact=True, time_budget=0.0)
    return [p for group in groups for p in _group_payments(group)]


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
        time_budget: seconds the heuristic may search when there are more than 20 non-zero
            balances; the exact search ignores it. The search is seeded and normally ends on
            its own well inside the budget; only when the budget cuts it short can a slower
            machine return a different (still never worse than greedy) plan.
        carry_accounts: accounts that never move this period, whatever their size (the clan
            fund when it has no character of its own).
        previous: an earlier plan, or just its transfers as stored. Its transfers are kept
            where they still apply: amounts follow the new balances, paid ones drop out, and
            only the groups that no longer add up (a late sale, a payment off the plan) are
            planned afresh. The result is used unless a fresh plan needs fewer transfers.
            Without ``previous`` the plan is a deterministic function of the balances, and
            usually, but not always, equal to the previous plan minus what was paid (when
            several groupings are equally good, a payment can tip the choice).

    Raises:
        UnbalancedEntry: the balances do not sum to 0.
        InvalidAmount: a balance is not a whole number, or ``carry_threshold`` is negative.
    """
    _check_sum(balances)
    require_diamonds(carry_threshold, "carry threshold")
    carried = _carried(balances, carry_threshold, carry_accounts)
    to_settle = {k: v - carried.get(k, 0) for k, v in balances.items() if v != carried.get(k, 0)}
    method, parts = _fresh_parts(to_settle, time_budget)
    if previous is not None:
        links = previous.transfers if isinstance(previous, SettlementPlan) else tuple(previous)
        kept = _reuse(links, to_settle, time_budget)
        if _count(kept) <= _count(parts):
            parts = kept
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
    return SettlementPlan(transfers, carried, groups, rate, FeePolicy(policy), method)


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
    paired = sum(2 * min(n, counts.get(-v, 0)) for v, n in counts.items() if v > 0)
    return sum(counts.values()) - paired <= EXACT_LIMIT


def _groups(balances: Mapping[K, int], exact: bool, time_budget: float) -> list[dict[K, int]]:
    """The zero-sum groups, in order of their first key."""
    keys = canonical_order(k for k, v in balances.items() if v)
    values = [balances[k] for k in keys]
    if exact:
        if not _exact_fits(values):
            raise InvalidAmount(
                f"{len(values)} balances are too many for the exact search "
                f"(at most {EXACT_LIMIT} after opposite pairs); use plan_settlement"
            )
        index_groups = exact_groups(values)
    else:
        index_groups = heuristic_groups(values, time_budget)
    groups = [{keys[i]: values[i] for i in sorted(group)} for group in index_groups]
    return sorted(groups, key=lambda g: keys.index(next(iter(g))))


def _group_payments(group: Mapping[K, int]) -> list[Payment[K]]:
    """The corner rule (stable), unless greedy finds fewer in a group that is not minimal
    (only the heuristic's last group can be)."""
    corner = corner_transfers(group)
    if len(corner) <= 2:
        return corner
    greedy = greedy_transfers(group)
    return greedy if len(greedy) < len(corner) else corner


Part = tuple[dict[K, int], list[Payment[K]]]


def _count(parts: Sequence[Part[K]]) -> int:
    return sum(len(payments) for _, payments in parts)


def _parts(balances: Mapping[K, int], payments: Sequence[Payment[K]]) -> list[Part[K]]:
    """Split ``payments`` into the groups they settle (see :func:`_components`)."""
    return components({k: v for k, v in balances.items() if v}, payments)


def _fresh_parts(balances: Mapping[K, int], time_budget: float) -> tuple[str, list[Part[K]]]:
    """Plan ``balances`` from scratch: exact when it fits, else the heuristic or greedy,
    whichever needs fewer transfers."""
    method = "exact" if _exact_fits(balances.values()) else "heuristic"
    groups = _groups(balances, exact=method == "exact", time_budget=time_budget)
    parts = [(group, _group_payments(group)) for group in groups]
    if method == "heuristic":
        greedy = greedy_transfers(balances)
        if len(greedy) < _count(parts):
            method, parts = "greedy", _parts(balances, greedy)
    return method, parts


def _reuse(
    links: Sequence[PlannedTransfer[K]], balances: Mapping[K, int], time_budget: float
) -> list[Part[K]]:
    """The previous transfers, updated to ``balances`` where they still settle them.

    The previous transfers form trees (one per group), so the amount on every transfer
    follows from the new balances; a transfer whose amount falls to 0 was paid and drops
    out. A group that no longer sums to 0, or whose amounts would turn negative, is planned
    afresh together with any balance the previous transfers did not cover.
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
    if dirty:
        parts.extend(_fresh_parts(dirty, time_budget)[1])
    return parts
