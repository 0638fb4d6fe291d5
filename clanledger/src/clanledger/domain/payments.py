"""Payments between accounts: the two settling rules and the structure of a set of payments.

A :class:`Payment` moves an amount from a payer to a receiver (the fee comes later, in
:mod:`~clanledger.domain.settlement`). :func:`greedy_transfers` is the classic baseline,
:func:`corner_transfers` settles one zero-sum group in key order, :func:`components` splits
payments into the groups they settle, and :func:`tree_flows` recomputes the amounts of a
tree of payments for new balances (used to re-plan without reshuffling).
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from clanledger.domain.ordering import canonical_order

K = TypeVar("K", bound=Hashable)


class Payment(NamedTuple, Generic[K]):
    """``payer`` pays ``amount`` to ``receiver`` (no fee involved)."""

    payer: K
    receiver: K
    amount: int


def greedy_transfers(balances: Mapping[K, int]) -> list[Payment[K]]:
    """The classic greedy: the largest debtor pays the largest creditor, repeat.

    Ties go to the earlier key. Used as the baseline the planner must never lose to, and as
    the fallback for very large inputs. Balances must sum to 0.
    """
    order = {k: i for i, k in enumerate(canonical_order(balances))}
    debtors = [(v, order[k], k) for k, v in balances.items() if v < 0]
    creditors = [(-v, order[k], k) for k, v in balances.items() if v > 0]
    heapq.heapify(debtors)
    heapq.heapify(creditors)
    payments = []
    while debtors and creditors:
        debt, i, payer = heapq.heappop(debtors)
        credit, j, receiver = heapq.heappop(creditors)
        amount = min(-debt, -credit)
        payments.append(Payment(payer, receiver, amount))
        if debt + amount:
            heapq.heappush(debtors, (debt + amount, i, payer))
        if credit + amount:
            heapq.heappush(creditors, (credit + amount, j, receiver))
    return payments


def corner_transfers(balances: Mapping[K, int]) -> list[Payment[K]]:
    """Settle a zero-sum group by the north-west corner rule, in key order.

    Debtors and creditors are lined up in key order; each debtor pays the current creditor
    until one of them is settled, then moves on. At most ``m - 1`` payments for ``m``
    non-zero balances, exactly ``m - 1`` when no proper subgroup sums to zero, and paying
    one payment early leaves the others unchanged when the rule is run again.
    """
    keys = canonical_order(k for k, v in balances.items() if v)
    debtors = [[k, -balances[k]] for k in keys if balances[k] < 0]
    creditors = [[k, balances[k]] for k in keys if balances[k] > 0]
    payments = []
    d = c = 0
    while d < len(debtors) and c < len(creditors):
        amount = min(debtors[d][1], creditors[c][1])
        payments.append(Payment(debtors[d][0], creditors[c][0], amount))
        debtors[d][1] -= amount
        creditors[c][1] -= amount
        d += debtors[d][1] == 0
        c += creditors[c][1] == 0
    return payments


class Link(Protocol[K]):
    """Anything that goes from a payer to a receiver (a Payment or a PlannedTransfer)."""

    payer: K
    receiver: K


L = TypeVar("L", bound=Link[Any])


def components(accounts: Mapping[K, int], links: Sequence[L]) -> list[tuple[dict[K, int], list[L]]]:
    """The connected components of payer-receiver ``links`` over ``accounts``, in key order,
    each with the balances of its accounts and its own links in their order."""
    parent = {k: k for k in accounts}

    def root(k: K) -> K:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for link in links:
        parent[root(link.payer)] = root(link.receiver)
    members: dict[K, list[K]] = {}
    for k in canonical_order(accounts):
        members.setdefault(root(k), []).append(k)
    return [
        ({k: accounts[k] for k in group}, [link for link in links if link.payer in group])
        for group in members.values()
    ]


def tree_flows(balances: dict[K, int], links: Sequence[Link[K]]) -> list[int] | None:
    """The amount on each link (payer -> receiver) that settles ``balances`` exactly, or
    None when the links cannot do it with non-negative amounts."""
    left = dict(balances)
    flows: dict[int, int] = {}
    pending = set(range(len(links)))
    while pending:
        ends: dict[K, list[int]] = {}
        for i in sorted(pending):
            ends.setdefault(links[i].payer, []).append(i)
            ends.setdefault(links[i].receiver, []).append(i)
        leaves = [(ids[0], k) for k, ids in ends.items() if len(ids) == 1]
        if not leaves:
            return None  # a cycle: not a plan this module made
        i, k = min(leaves, key=lambda leaf: leaf[0])
        link = links[i]
        amount = -left[k] if k == link.payer else left[k]
        if amount < 0:
            return None
        flows[i] = amount
        left[link.payer] += amount
        left[link.receiver] -= amount
        pending.remove(i)
    if any(left.values()):
        return None
    return [flows[i] for i in range(len(links))]
