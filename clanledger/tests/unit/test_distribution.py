from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clanledger.domain.distribution import distribute_sale, fund_cut_of
from clanledger.domain.errors import EmptyParticipants, InvalidAmount, ZeroTotalWeight
from clanledger.domain.money import Rate


def test_fund_cut_is_floored():
    assert fund_cut_of(999, Rate(1000)) == 99  # 99.9 -> 99
    assert fund_cut_of(1000, Rate(1000)) == 100
    assert fund_cut_of(5, Rate(0)) == 0


def test_distribute_sale_example():
    d = distribute_sale(1999, Rate(1000), {"ann": 1, "bob": 1, "cid": Fraction(1, 2)}, seed=1)
    assert d.fund == 199
    assert d.distributed == 1800
    assert d.shares == {"ann": 720, "bob": 720, "cid": 360}


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 10**8),
    st.integers(0, 9_999).map(Rate),
    st.dictionaries(st.integers(1, 40), st.integers(1, 4), min_size=1, max_size=10),
    st.integers(0, 10**6),
)
def test_distribution_adds_up(received, cut, weights, seed):
    d = distribute_sale(received, cut, weights, seed)
    assert d.fund + sum(d.shares.values()) == received
    assert d.fund == (received * cut.fraction).__floor__()
    assert all(share >= 0 for share in d.shares.values())


def test_distribution_errors():
    with pytest.raises(InvalidAmount, match="diamonds received cannot be negative"):
        distribute_sale(-1, Rate(0), {"a": 1})
    with pytest.raises(EmptyParticipants):
        distribute_sale(10, Rate(0), {})
    with pytest.raises(ZeroTotalWeight):
        distribute_sale(10, Rate(0), {"a": 0})
