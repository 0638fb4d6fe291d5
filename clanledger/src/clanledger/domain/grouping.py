"""Splitting balances into zero-sum groups: the heart of "fewest transfers".

A set of ``n`` non-zero balances that sums to zero can always be settled with ``n - 1``
transfers, and a plan that splits them into ``g`` disjoint zero-sum groups needs exactly
``n - g`` transfers (each group of ``m`` members is settled with ``m - 1``). So the fewest
transfers is ``n`` minus the largest number of disjoint zero-sum groups, and this module
searches for that partition.

* :func:`exact_groups`: the optimum, for up to :data:`EXACT_LIMIT` balances left after
  opposite pairs are taken out. It enumerates the zero-sum subsets by meet-in-the-middle and
  runs the subset dynamic programme ("g(S) = the longest chain of zero-sum subsets inside S")
  as bitset operations on Python integers, one bit per subset, so 2^20 subsets cost a few
  milliseconds per level instead of a Python loop over a million states.
* :func:`multiset_partition`: the optimum when equal balances make the count vectors few
  (``[-9, -9, +1 x 18]`` has 57 states instead of 2^20 subsets): the same programme over how
  many of each distinct value are used.
* :func:`hashed_split`: a fast split for very large inputs. It takes out opposite pairs,
  zero-sum triples and quadruples found by hashing sums, and (given a deadline) random
  windows of :data:`EXACT_LIMIT` balances searched exactly; what is left forms one group.

The search with a proven bound for inputs between these lives in
:mod:`~clanledger.domain.group_search`, which calls this module.

Groups are lists of indices into the values; indices follow the caller's canonical key
order, and every choice is deterministic (the random windows use a fixed seed).
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import cache

EXACT_LIMIT = 20
"""Most balances (after opposite pairs are removed) that :func:`exact_groups` accepts."""

_WINDOW_SEED = 20_240_601
_WINDOW_MISSES = 200  # stop the window search after this many windows in a row find nothing


def opposite_pairs(values: Sequence[int], alive: set[int]) -> list[list[int]]:
    """Take ``x`` and ``-x`` out as two-member groups, lowest indices first.

    Some optimal partition always contains such a pair as a group, so this never loses
    optimality. The paired indices are removed from ``alive``.
    """
    waiting: dict[int, list[int]] = defaultdict(list)
    pairs: list[list[int]] = []
    for index in sorted(alive):
        partners = waiting.get(-values[index])
        if partners:
            pairs.append(sorted((partners.pop(0), index)))
        else:
            waiting[values[index]].append(index)
    for pair in pairs:
        alive.difference_update(pair)
    return pairs


def zero_sum_masks(values: Sequence[int]) -> list[int]:
    """Every non-empty subset (as a bit mask over ``values``) whose values sum to 0.

    Meet-in-the-middle: subset sums of the two halves are matched through a dictionary, so
    the work is ``2^(n/2)`` plus the number of zero-sum subsets.
    """
    half = len(values) // 2
    low_sums = subset_sums(values[:half])
    high_sums = subset_sums(values[half:])
    by_sum: dict[int, list[int]] = defaultdict(list)
    for mask, total in enumerate(low_sums):
        by_sum[total].append(mask)
    masks = []
    for high, total in enumerate(high_sums):
        for low in by_sum.get(-total, ()):
            masks.append(high << half | low)
    masks.sort()
    return masks[1:] if masks and masks[0] == 0 else masks


def subset_sums(values: Sequence[int]) -> list[int]:
    """The sum of every subset of ``values``, subset ``m`` (a bit mask) at index ``m``."""
    sums = [0]
    for value in values:
        sums += [total + value for total in sums]
    return sums


@cache
def _bit_patterns(n: int) -> tuple[int, tuple[int, ...]]:
    """The universe bitset over ``2^n`` subsets, and for each element ``i`` the bitset of
    subsets that do *not* contain ``i``."""
    size = 1 << n
    universe = (1 << size) - 1
    without = []
    for i in range(n):
        step = 1 << i
        pattern = ((1 << step) - 1) << step  # subsets 0..2*step-1 that contain i
        length = 2 * step
        while length < size:
            pattern |= pattern << length
            length *= 2
        without.append(universe ^ pattern)
    return universe, tuple(without)


def _up_closure(bits: int, without: Sequence[int]) -> int:
    """Every superset of a subset in ``bits``."""
    for i, mask in enumerate(without):
        bits |= (bits & mask) << (1 << i)
    return bits


def _one_more(bits: int, without: Sequence[int]) -> int:
    """Every subset obtained by adding one element to a subset in ``bits``."""
    grown = 0
    for i, mask in enumerate(without):
        grown |= (bits & mask) << (1 << i)
    return grown


def exact_groups(values: Sequence[int]) -> list[list[int]]:
    """The largest number of disjoint zero-sum groups covering ``values`` (exact).

    Args:
        values: non-zero integers summing to 0; at most :data:`EXACT_LIMIT` of them once
            opposite pairs are taken out.

    Returns:
        groups of indices; every group sums to 0 and together they cover every index.
        Pairs come first, then the groups found by the dynamic programme, smallest first.

    Raises:
        ValueError: too many values or they do not sum to zero (a programming error: the
            planner checks both before calling).
    """
    if sum(values) != 0:
        raise ValueError("exact_groups needs values that sum to 0")
    alive = set(range(len(values)))
    groups = opposite_pairs(values, alive)
    rest = sorted(alive)
    if len(rest) > EXACT_LIMIT:
        raise ValueError(f"exact_groups handles at most {EXACT_LIMIT} values after pairing")
    if rest:
        local = [values[i] for i in rest]
        groups.extend([rest[j] for j in group] for group in _partition(local))
    return groups


def _partition(values: Sequence[int]) -> list[list[int]]:
    """Maximum partition of ``values`` (summing to 0) into zero-sum groups."""
    n = len(values)
    return [[i for i in range(n) if mask >> i & 1] for mask in partition_masks(values)]


def partition_masks(values: Sequence[int]) -> list[int]:
    """Maximum partition of ``values`` (summing to 0) into zero-sum groups, as bit masks:
    the multiset programme when equal values make it small, else the subset programme."""
    if not values:
        return []
    n = len(values)
    states = multiset_states(values)
    if states <= MULTISET_STATES and states << 4 < 1 << n:
        return multiset_partition(values)
    full = (1 << n) - 1
    zero = zero_sum_masks(values)
    _, without = _bit_patterns(n)
    zero_bits = _bitset(zero, 1 << n)
    # levels[t] = bitset of subsets that contain a chain of t + 1 nested zero-sum subsets
    levels = [_up_closure(zero_bits, without)]
    while True:
        nxt = _up_closure(zero_bits & _one_more(levels[-1], without), without)
        if not nxt >> full & 1:
            break
        levels.append(nxt)
    groups: list[int] = []
    current = full
    for level in reversed(levels[:-1]):
        # peel one group off: a zero-sum proper subset that still holds a chain this long
        member = level.to_bytes((1 << n) // 8 + 1, "little")
        best = min(
            (
                m
                for m in zero
                if m & current == m and m != current and member[m >> 3] >> (m & 7) & 1
            ),
            key=lambda m: _group_order(current ^ m),
        )
        groups.append(current ^ best)
        current = best
    groups.append(current)
    return sorted(groups, key=_group_order)


MULTISET_STATES = 40_000
"""Most states (product of each distinct value's count + 1) for the multiset programme."""


def multiset_states(values: Sequence[int]) -> int:
    """States of the multiset programme: the product of (count + 1) over distinct values."""
    states = 1
    for count in Counter(values).values():
        states *= count + 1
    return states


def multiset_partition(values: Sequence[int]) -> list[int]:
    """Maximum zero-sum partition by a programme over how many of each distinct value are
    used: ``f(c) = [sum(c) = 0] + max f(c - one value)``, so equal balances (many members
    owed the same share) cost one state per count instead of one per subset."""
    distinct = sorted(set(values))
    counts = [values.count(v) for v in distinct]
    strides = [1] * len(distinct)
    for d in range(1, len(distinct)):
        strides[d] = strides[d - 1] * (counts[d - 1] + 1)
    size = strides[-1] * (counts[-1] + 1)
    best = [0] * size
    total = [0] * size
    for state in range(1, size):
        top = -1
        for d, stride in enumerate(strides):
            if state // stride % (counts[d] + 1):
                if top < 0:
                    total[state] = total[state - stride] + distinct[d]
                top = max(top, best[state - stride])
        best[state] = top + (total[state] == 0)
    return _multiset_groups(values, distinct, counts, strides, best, total)


def _multiset_groups(values, distinct, counts, strides, best, total) -> list[int]:
    """Walk back from the full state along the best chain; each zero sum closes a group."""
    free: dict[int, list[int]] = {v: [i for i, x in enumerate(values) if x == v] for v in distinct}
    state = len(best) - 1
    groups: list[int] = []
    group = 0
    while state:
        options = [d for d, stride in enumerate(strides) if state // stride % (counts[d] + 1)]
        d = max(options, key=lambda d: (best[state - strides[d]], -d))
        state -= strides[d]
        group |= 1 << free[distinct[d]].pop()
        if total[state] == 0:
            groups.append(group)
            group = 0
    return sorted(groups, key=_group_order)


def _bitset(masks: Sequence[int], size: int) -> int:
    """The integer with bit ``m`` set for every ``m`` in ``masks``."""
    buffer = bytearray(size // 8 + 1)
    for m in masks:
        buffer[m >> 3] |= 1 << (m & 7)
    return int.from_bytes(buffer, "little")


def _group_order(mask: int) -> tuple[int, list[int]]:
    """Smaller groups first, then by their lowest indices."""
    return mask.bit_count(), [i for i in range(mask.bit_length()) if mask >> i & 1]


def hashed_split(values: Sequence[int], deadline: float | None = None) -> list[int]:
    """Zero-sum groups (bit masks) covering ``values`` for inputs too big to split exactly.

    It takes out opposite pairs (always optimal), zero-sum triples and quadruples found by
    hashing sums, and, given a ``deadline``, random windows of :data:`EXACT_LIMIT` balances
    searched exactly; what is left is split exactly when it is small, else forms one group.
    """
    alive = set(range(len(values)))
    groups = opposite_pairs(values, alive)
    groups += _hashed_groups(values, alive, 1, 2) + _hashed_groups(values, alive, 2, 1)
    groups += _hashed_groups(values, alive, 2, 2)
    if deadline is not None and len(alive) > EXACT_LIMIT:
        groups += _window_groups(values, alive, deadline)
    masks = [sum(1 << i for i in group) for group in groups]
    rest = sorted(alive)
    if len(rest) <= EXACT_LIMIT // 2 or multiset_states([values[i] for i in rest]) <= 4096:
        local = partition_masks([values[i] for i in rest])
        masks += [sum(1 << rest[j] for j in range(len(rest)) if m >> j & 1) for m in local]
    elif rest:
        masks.append(sum(1 << i for i in rest))
    return masks


def _hashed_groups(
    values: Sequence[int], alive: set[int], n_pos: int, n_neg: int
) -> list[list[int]]:
    """Zero-sum groups of ``n_pos`` creditors and ``n_neg`` debtors (1 or 2 each), found by
    matching sums of pairs through a dictionary; lowest indices first."""
    positives = sorted(i for i in alive if values[i] > 0)
    negatives = sorted(i for i in alive if values[i] < 0)
    candidates: dict[int, list[tuple[int, ...]]] = defaultdict(list)
    for combo in _combos(negatives, n_neg):
        candidates[-sum(values[i] for i in combo)].append(combo)
    found = []
    for combo in _combos(positives, n_pos):
        if not alive.issuperset(combo):
            continue
        for other in candidates.get(sum(values[i] for i in combo), ()):
            if alive.issuperset(other):
                group = sorted(combo + other)
                alive.difference_update(group)
                found.append(group)
                break
    return found


def _combos(indices: list[int], size: int) -> list[tuple[int, ...]]:
    if size == 1:
        return [(i,) for i in indices]
    return [(a, b) for k, a in enumerate(indices) for b in indices[k + 1 :]]


def _window_groups(values: Sequence[int], alive: set[int], deadline: float) -> list[list[int]]:
    """Search random windows of :data:`EXACT_LIMIT` balances for small zero-sum groups."""
    rng = random.Random(_WINDOW_SEED)
    found = []
    misses = 0
    while len(alive) > EXACT_LIMIT and misses < _WINDOW_MISSES:
        if time.perf_counter() > deadline:
            break
        window = sorted(rng.sample(sorted(alive), EXACT_LIMIT))
        masks = zero_sum_masks([values[i] for i in window])
        if not masks:
            misses += 1
            continue
        best = min(masks, key=_group_order)
        group = [window[j] for j in range(len(window)) if best >> j & 1]
        alive.difference_update(group)
        found.append(group)
        misses = 0
    return found
