from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clanledger.domain.errors import InvalidAmount
from clanledger.domain.fees import (
    FeePolicy,
    exchange_fee,
    gross_up,
    received_from,
    transfer_terms,
)
from clanledger.domain.money import Rate

rates = st.integers(0, 9_999).map(Rate)
amounts = st.integers(0, 10**9)


def test_fee_rounds_up():
    five = Rate(500)
    assert exchange_fee(100, five) == 5
    assert exchange_fee(101, five) == 6  # 5.05 -> 6
    assert exchange_fee(1, five) == 1
    assert exchange_fee(0, five) == 0
    assert received_from(101, five) == 95


def test_gross_up_known_values():
    five = Rate(500)
    assert gross_up(100, five) == 106  # 100 / 0.95 = 105.26 -> 106; fee 6, receiver 100
    assert gross_up(95, five) == 100
    assert gross_up(0, five) == 0
    assert gross_up(100, Rate(0)) == 100


@given(amounts, rates)
def test_gross_up_is_smallest_price_giving_at_least_net(net, rate):
    price = gross_up(net, rate)
    assert received_from(price, rate) >= net
    assert price == 0 or received_from(price - 1, rate) < net
    # the closed form of the issue: ceil(net / (1 - fee)), computed exactly
    exact = Fraction(net) / (1 - rate.fraction)
    assert price == -(-exact.numerator // exact.denominator)
    # with the ceiling fee the receiver gets exactly net, never a diamond more
    assert received_from(price, rate) == net


@given(amounts, rates)
def test_fee_is_ceiling_of_exact_fee(gross, rate):
    exact = gross * rate.fraction
    assert exchange_fee(gross, rate) == -(-exact.numerator // exact.denominator)
    assert 0 <= received_from(gross, rate) <= gross


@given(amounts, rates, st.sampled_from(FeePolicy))
def test_transfer_terms_by_policy(net, rate, policy):
    gross, fee = transfer_terms(net, rate, policy)
    assert fee == exchange_fee(gross, rate)
    if policy is FeePolicy.RECEIVER:
        assert gross == net
    else:
        assert gross - fee == net


def test_negative_amounts_rejected():
    with pytest.raises(InvalidAmount, match="cannot be negative"):
        exchange_fee(-1, Rate(500))
    with pytest.raises(InvalidAmount, match="cannot be negative"):
        gross_up(-5, Rate(500))
