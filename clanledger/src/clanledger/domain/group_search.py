"""The most zero-sum groups, with a proven upper bound: exact search for real clan sizes.

The fewest transfers that settle ``n`` balances is ``n`` minus the largest number of disjoint
zero-sum groups that cover them (:mod:`~clanledger.domain.grouping`); the problem is NP-hard
(it contains subset sum), so the answer comes with a proof of how far it can be from the
optimum. :func:`best_groups` takes the first of these that applies:

1. **Opposite pairs** ``x``/``-x`` come out as groups (some optimal partition has them).
2. **Subset programme** (exact) for at most 20 balances left, or the **multiset programme**
   (exact) when equal balances keep the count vectors few.
3. **Listed partition** (exact, :func:`listed_partition`): up to :data:`SUBSET_LIMIT`
   balances, when meet in the middle (Horowitz and Sahni) counts at most
   :data:`SUBSETS_LISTED` zero-sum subsets, which is the case for widely spread balances:
   set partition over that list, the lowest remaining balance's group first, remembered per
   remaining set.
4. **Branch and bound** (:class:`_Search`) up to :data:`SEARCH_LIMIT` balances:

   * *Candidates*: every zero-sum subset of at most ``2 h`` balances, joining the subsets
     of at most ``h`` through a dictionary of their sums (``h`` = 3 up to
     :data:`WIDE_SEARCH` balances while the join stays small, else 2).
   * *Bound*: let ``s(x)`` be the size of the smallest candidate that holds ``x``
     (``2 h + 1`` when none does: then every group holding ``x`` is bigger). A group ``G``
     has ``s(x) <= |G|`` for all its members, so ``sum(1 / s(x) for x in G) >= 1`` and the
     number of groups is at most ``sum(1 / s(x))``: a fractional covering bound, taken
     again at every node over the balances not yet placed.
   * *Branching*: the balance with the fewest candidates is placed first, into one of its
     candidates that still fits (smallest first) or "into a big group" (more than ``2 h``
     members; it then counts ``1 / (2 h + 1)``). A leaf splits its big-group balances
     exactly when they are few (:data:`LEAF_EXACT`, or listed up to :data:`LEAF_LISTED`),
     else by hashing small groups out and bounds them by ``count // (2 h + 1)``.

5. **Above that**, zero-sum triples are hashed out, then quadruples and exact windows
   (:func:`~clanledger.domain.grouping.hashed_split`), and the bound uses triples only.

A search that ends proves its answer (or the largest leaf bound); one cut short by the
deadline keeps the root's bound. Everything is deterministic when the search ends in time.

Why this and not a MIP or CP-SAT model: the linear relaxation of a zero-sum partition
model is empty of information (splitting a balance fractionally makes any slot sum to 0),
so a solver would prove little more than the counting bound while adding a compiled
dependency; the proofs here come from the zero-sum subsets themselves. Measured by
``clanledger/benchmarks/bench_settlement.py`` (10 seeds per row, 1 s budget, a shared
2-core machine) on uniform, many-equal and hidden-group balances: every plan of 20 to 30
open balances proven fewest (median at most about 0.5 s, slowest about 0.9 s); at 40, 29
of 30 proven (median under 0.1 s); at 60 the many-equal ones proven and the others within
about 3 of the bound; at 1,000 about 0.1 to 1.5 s, with about 13 to 27 % fewer transfers
than greedy.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from math import lcm

from clanledger.domain.grouping import (
    EXACT_LIMIT,
    MULTISET_STATES,
    hashed_split,
    multiset_partition,
    multiset_states,
    opposite_pairs,
    partition_masks,
    subset_sums,
    zero_sum_masks,
)

LEAF_EXACT = 16
"""Most big-group balances a leaf splits exactly (by the subset dynamic programme)."""

WIDE_SEARCH = 64
"""Up to this many balances the candidates hold up to 6 balances (while joining the halves
stays under :data:`WIDE_JOINS` pairs), else up to 4."""

WIDE_JOINS = 300_000

SUBSET_LIMIT = 34
"""Up to this many balances, every zero-sum subset is listed when there are at most
:data:`SUBSETS_LISTED` of them (wide ranges of balances), and the partition is exact."""

SUBSETS_LISTED = 20_000

LEAF_LISTED = 26
"""Most big-group balances a leaf lists every zero-sum subset of."""

SEARCH_LIMIT = 90
"""Most balances the branch and bound takes; above it only hashed groups and the bound."""


@dataclass(frozen=True)
class SearchResult:
    """Groups found (index lists covering every balance) and the proven most groups."""

    groups: list[list[int]]
    upper_bound: int


class _Timeout(Exception):
    pass


def candidate_masks(values: Sequence[int], half: int, most: int | None = None) -> list[int] | None:
    """Every zero-sum subset (bit mask) of at most ``2 * half`` of ``values``; None when the
    join would try more than ``most`` pairs of halves."""
    by_sum: dict[int, list[int]] = defaultdict(list)
    small: list[tuple[int, int]] = []
    for size in range(1, half + 1):
        for combo in combinations(range(len(values)), size):
            mask = sum(1 << i for i in combo)
            total = sum(values[i] for i in combo)
            by_sum[total].append(mask)
            small.append((mask, total))
    if most is not None:
        joins = sum(len(masks) * len(by_sum.get(-t, ())) for t, masks in by_sum.items())
        if joins > most:
            return None
    found = set()
    for mask, total in small:
        if total == 0:
            found.add(mask)
        for other in by_sum.get(-total, ()):
            if not other & mask:
                found.add(mask | other)
    return sorted(found, key=lambda m: (m.bit_count(), m))


def triple_masks(values: Sequence[int]) -> list[int]:
    """Every zero-sum triple: two balances of one sign and one of the other, by hashing."""
    where: dict[int, list[int]] = defaultdict(list)
    for i, v in enumerate(values):
        where[v].append(i)
    found = set()
    for sign in (1, -1):
        side = [i for i, v in enumerate(values) if v * sign > 0]
        for a, b in combinations(side, 2):
            for c in where.get(-(values[a] + values[b]), ()):
                found.add(1 << a | 1 << b | 1 << c)
    return sorted(found, key=lambda m: (m.bit_count(), m))


def weight_bound(n: int, masks: Sequence[int], cap: int) -> tuple[list[int], int]:
    """Integer weights ``scale // s(x)`` (``s`` capped at ``cap``) and the ``scale``."""
    scale = lcm(*range(1, cap + 1))
    smallest = [cap] * n
    for mask in masks:
        size = mask.bit_count()
        rest = mask
        while rest:
            low = rest & -rest
            i = low.bit_length() - 1
            smallest[i] = min(smallest[i], size)
            rest ^= low
    return [scale // s for s in smallest], scale


class _Search:
    """One branch and bound over the candidates of ``values`` (see the module docstring)."""

    def __init__(self, values: Sequence[int], masks: list[int], cap: int, deadline: float):
        self.values = values
        self.n = len(values)
        self.cap = cap
        self.deadline = deadline
        self.weights, self.scale = weight_bound(self.n, masks, cap)
        self.big = self.scale // cap
        by_element: list[list[int]] = [[] for _ in range(self.n)]
        for mask in masks:
            for i in range(self.n):
                if mask >> i & 1:
                    by_element[i].append(mask)
        self.by_element = by_element
        self.order = sorted(range(self.n), key=lambda i: (len(by_element[i]), i))
        self.best: list[int] = []
        self.best_count = 0
        self.open_bound = 0  # most groups a leaf left unsettled could still hold
        self.leaf_cache: dict[int, tuple[list[int], int]] = {}

    def root_bound(self) -> int:
        return sum(self.weights) // self.scale

    def run(self, incumbent: list[int]) -> bool:
        """Search from ``incumbent`` (a packing of disjoint candidates); True if it ended."""
        self._leaf(incumbent, _rest_mask(self.n, incumbent), counts=False)
        try:
            self._node((1 << self.n) - 1, 0, [])
        except _Timeout:
            return False
        return True

    def _node(self, free: int, big: int, chosen: list[int]) -> None:
        if time.perf_counter() > self.deadline:
            raise _Timeout
        if not free:
            self._leaf(chosen, big)
            return
        weight = sum(self.weights[i] for i in range(self.n) if free >> i & 1)
        bound = len(chosen) + (weight + self.big * big.bit_count()) // self.scale
        if bound <= self.best_count:
            return
        x = next(i for i in self.order if free >> i & 1)
        for mask in self.by_element[x]:
            if mask & free == mask:
                self._node(free & ~mask, big, [*chosen, mask])
        self._node(free & ~(1 << x), big | 1 << x, chosen)

    def _leaf(self, chosen: list[int], big: int, counts: bool = True) -> None:
        groups, upper = self._split(big)
        total = len(chosen) + len(groups)
        if total > self.best_count:
            self.best, self.best_count = [*chosen, *groups], total
        if counts:
            self.open_bound = max(self.open_bound, len(chosen) + upper)

    def _split(self, big: int) -> tuple[list[int], int]:
        """Groups of the big-group balances ``big`` and the most groups they can hold."""
        if not big:
            return [], 0
        if big not in self.leaf_cache:
            self.leaf_cache[big] = split_rest(self.values, big, self.cap, self.deadline)
        return self.leaf_cache[big]


def split_rest(
    values: Sequence[int], rest: int, cap: int, deadline: float | None = None
) -> tuple[list[int], int]:
    """Zero-sum groups of the balances in ``rest`` and the most groups of at least ``cap``
    members they can hold (exact up to :data:`LEAF_EXACT` balances)."""
    members = [i for i in range(len(values)) if rest >> i & 1]
    local = [values[i] for i in members]
    listed = None
    if LEAF_EXACT < len(members) <= LEAF_LISTED:
        listed = listed_partition(local, deadline)
    if len(members) <= LEAF_EXACT:
        parts = partition_masks(local)
        upper = len(parts)
    elif listed is not None and listed[0]:
        parts, upper = listed
    else:
        parts = hashed_split(local, deadline)
        upper = max(len(parts), len(members) // cap)
    groups = [sum(1 << members[j] for j in range(len(members)) if p >> j & 1) for p in parts]
    return groups, upper


def listed_partition(values: Sequence[int], deadline: float | None) -> tuple[list[int], int] | None:
    """Groups and the proven most groups, from the list of every zero-sum subset, when
    ``values`` are few and spread widely enough for that list to be short; None otherwise.

    Set partition: the group of the lowest remaining balance is chosen first, smallest
    first, and a remaining set stops looking once it reaches the covering bound with the
    exact ``s(x)`` (the smallest zero-sum subset that holds ``x``). Exact unless
    ``deadline`` cuts it short; then no groups, and the bound of the whole set.
    """
    if len(values) > SUBSET_LIMIT or zero_sum_count(values) > SUBSETS_LISTED:
        return None
    masks = zero_sum_masks(values)
    by_low: dict[int, list[int]] = defaultdict(list)
    for mask in sorted(masks, key=lambda m: (m.bit_count(), m)):
        by_low[(mask & -mask).bit_length()].append(mask)
    weights, scale = weight_bound(len(values), masks, len(values))
    state = _ListedSearch(by_low, weights, scale, deadline)
    full = (1 << len(values)) - 1
    try:
        state.most(full)
    except _Timeout:
        return [], sum(weights) // scale
    groups, mask = [], full
    while mask:
        group = state.memo[mask][1]
        groups.append(group)
        mask ^= group
    return groups, len(groups)


class _ListedSearch:
    """Set partition over listed zero-sum subsets, remembered per remaining set; a set stops
    looking once it reaches its covering bound."""

    def __init__(self, by_low, weights: list[int], scale: int, deadline: float | None):
        self.by_low = by_low
        self.weights = weights
        self.scale = scale
        self.stop = float("inf") if deadline is None else deadline
        self.memo: dict[int, tuple[int, int]] = {}

    def most(self, mask: int) -> int:
        if not mask:
            return 0
        if mask not in self.memo:
            if time.perf_counter() > self.stop:
                raise _Timeout
            bound = sum(w for i, w in enumerate(self.weights) if mask >> i & 1) // self.scale
            top, choice = 1, mask
            for group in self.by_low[(mask & -mask).bit_length()]:
                if top >= bound:
                    break
                if group & mask == group and group != mask:
                    count = 1 + self.most(mask ^ group)
                    if count > top:
                        top, choice = count, group
            self.memo[mask] = (top, choice)
        return self.memo[mask][0]


def zero_sum_count(values: Sequence[int]) -> int:
    """How many subsets of ``values`` (the empty one too) sum to 0, by meet in the middle."""
    half = len(values) // 2
    low: dict[int, int] = defaultdict(int)
    for total in subset_sums(values[:half]):
        low[total] += 1
    return sum(low.get(-total, 0) for total in subset_sums(values[half:]))


def _rest_mask(n: int, chosen: Sequence[int]) -> int:
    rest = (1 << n) - 1
    for mask in chosen:
        rest &= ~mask
    return rest


def greedy_packing(masks: Sequence[int]) -> list[int]:
    """Disjoint candidates taken smallest first (the first incumbent)."""
    used = 0
    chosen = []
    for mask in masks:
        if not mask & used:
            chosen.append(mask)
            used |= mask
    return chosen


def search_groups(values: Sequence[int], deadline: float) -> SearchResult:
    """The most zero-sum groups of ``values`` (no ``x``/``-x`` pairs, summing to 0) that the
    search finds by ``deadline``, and the proven most groups possible."""
    n = len(values)
    if n > SEARCH_LIMIT:
        masks = triple_masks(values)
        weights, scale = weight_bound(n, masks, 4)
        groups, _ = split_rest(values, (1 << n) - 1, 4, deadline)
        upper = max(len(groups), sum(weights) // scale)
        return SearchResult(_index_lists(groups), upper)
    now = time.perf_counter()
    listed = listed_partition(values, now + max(deadline - now, 0) / 2)
    if listed is not None and len(listed[0]) == listed[1]:
        return SearchResult(_index_lists(listed[0]), listed[1])
    half = 3
    masks = candidate_masks(values, 3, WIDE_JOINS) if n <= WIDE_SEARCH else None
    if masks is None:
        half, masks = 2, candidate_masks(values, 2) or []
    search = _Search(values, masks, 2 * half + 1, deadline)
    ended = search.run(greedy_packing(masks))
    upper = max(search.best_count, search.open_bound if ended else search.root_bound())
    best = search.best
    if listed is not None:  # cut short, but its bound and best still count
        upper = min(upper, listed[1])
        best = max(best, listed[0], key=len)
    return SearchResult(_index_lists(best), max(upper, len(best)))


def _index_lists(masks: Sequence[int]) -> list[list[int]]:
    lists = [[i for i in range(mask.bit_length()) if mask >> i & 1] for mask in masks]
    return sorted(lists, key=lambda g: (len(g), g))


def best_groups(values: Sequence[int], deadline: float) -> SearchResult:
    """The most zero-sum groups covering ``values`` (non-zero, summing to 0) found by
    ``deadline``, and the proven most groups possible.

    Opposite pairs come out first (some optimal partition always has them as groups). What
    is left is split exactly by a dynamic programme when it is small (at most
    :data:`~clanledger.domain.grouping.EXACT_LIMIT` balances, or few distinct values), else
    by :func:`search_groups`. Groups are index lists, smallest first.
    """
    alive = set(range(len(values)))
    pairs = opposite_pairs(values, alive)
    rest = sorted(alive)
    local = [values[i] for i in rest]
    if len(rest) <= EXACT_LIMIT or multiset_states(local) <= MULTISET_STATES:
        exact = partition_masks if len(rest) <= EXACT_LIMIT else multiset_partition
        found = _index_lists(exact(local))
        result = SearchResult(found, len(found))
    else:
        result = search_groups(local, deadline)
    groups = [[rest[j] for j in group] for group in result.groups]
    return SearchResult(pairs + groups, len(pairs) + result.upper_bound)
