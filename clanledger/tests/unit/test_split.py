from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clanledger.domain.errors import (
    EmptyParticipants,
    InvalidAmount,
    InvalidWeight,
    ZeroTotalWeight,
)
from clanledger.domain.split import parse_weight, split_by_weight

weight_values = st.one_of(
    st.integers(0, 5), st.fractions(0, 5, max_denominator=8), st.sampled_from([Fraction(1, 2)])
)
weight_maps = st.dictionaries(st.integers(1, 50), weight_values, min_size=1, max_size=12).filter(
    lambda w: sum(w.values()) > 0
)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**7), weight_maps, st.integers(0, 10**6))
def test_split_sums_exactly_and_rounds_each_quota(amount, weights, seed):
    shares = split_by_weight(amount, weights, seed)
    assert sum(shares.values()) == amount
    assert shares.keys() == weights.keys()
    total = sum(weights.values())
    for member, weight in weights.items():
        quota = Fraction(amount) * weight / total
        assert quota - 1 < shares[member] < quota + 1
        if weight == 0:
            assert shares[member] == 0


def test_split_by_weight_example():
    shares = split_by_weight(1001, {"ann": 1, "bob": Fraction(1, 2), "cid": 1}, seed=0)
    # quotas 400.4, 200.2, 400.4: floors 400 + 200 + 400, the one leftover goes to a .4
    assert sum(shares.values()) == 1001
    assert shares["bob"] == 200
    assert sorted([shares["ann"], shares["cid"]]) == [400, 401]


def test_leftover_rotates_with_seed():
    members = {name: 1 for name in ["ann", "bob", "cid", "dan"]}
    winners = Counter()
    for item_id in range(8):
        shares = split_by_weight(5, members, seed=item_id)
        (winner,) = [m for m, s in shares.items() if s == 2]
        winners[winner] += 1
    assert winners == {"ann": 2, "bob": 2, "cid": 2, "dan": 2}
    # the same seed gives the same split
    assert split_by_weight(5, members, seed=3) == split_by_weight(5, members, seed=3)


def test_larger_remainder_wins_before_rotation():
    # quotas 3.6 and 6.4: the .6 remainder gets the leftover whatever the seed
    for seed in range(4):
        assert split_by_weight(10, {"a": 9, "b": 16}, seed) == {"a": 4, "b": 6}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1),
        ("0.5", Fraction(1, 2)),
        ("1/2", Fraction(1, 2)),
        ("1.25", Fraction(5, 4)),
        (" 2 ", 2),
        ("0", 0),
    ],
)
def test_parse_weight(text, value):
    assert parse_weight(text) == value


@pytest.mark.parametrize("text", ["-1", "abc", "1/0", "", "nan", "inf"])
def test_parse_weight_rejects(text):
    with pytest.raises(InvalidWeight, match="weight"):
        parse_weight(text)


def test_split_errors():
    with pytest.raises(EmptyParticipants, match="add at least one participant"):
        split_by_weight(10, {})
    with pytest.raises(ZeroTotalWeight, match="weight above 0"):
        split_by_weight(10, {"a": 0, "b": 0})
    with pytest.raises(InvalidAmount, match="cannot be negative"):
        split_by_weight(-10, {"a": 1})
    with pytest.raises(InvalidWeight, match="weight of a cannot be negative"):
        split_by_weight(10, {"a": -1, "b": 2})
    with pytest.raises(InvalidWeight, match="parse_weight"):
        split_by_weight(10, {"a": 0.5})
