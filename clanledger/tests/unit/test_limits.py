"""The limits on rates and prices live in the domain; forms and services ask it."""

import pytest

from clanledger.domain.errors import InvalidAmount, InvalidRate, PriceOutOfRange
from clanledger.domain.fees import MAX_EXCHANGE_FEE, require_exchange_fee, require_fund_cut
from clanledger.domain.money import MAX_PRICE, MIN_PRICE, Rate, require_price


def test_fund_cut_is_any_rate_below_100_percent():
    assert require_fund_cut(0) == Rate(0)
    assert require_fund_cut(9999) == Rate(9999)
    for bad in (-1, 10000):
        with pytest.raises(InvalidRate):
            require_fund_cut(bad)


def test_exchange_fee_is_at_most_50_percent():
    assert require_exchange_fee(MAX_EXCHANGE_FEE.bps) == MAX_EXCHANGE_FEE
    for bad in (-1, MAX_EXCHANGE_FEE.bps + 1, 10000):
        with pytest.raises(InvalidRate):
            require_exchange_fee(bad)


def test_price_limits():
    assert require_price(MIN_PRICE) == MIN_PRICE
    assert require_price(MAX_PRICE) == MAX_PRICE
    with pytest.raises(PriceOutOfRange) as low:
        require_price(0)
    with pytest.raises(PriceOutOfRange) as high:
        require_price(MAX_PRICE + 1)
    assert (low.value.too_high, high.value.too_high) == (False, True)
    for bad in (1.5, "3", True):
        with pytest.raises(InvalidAmount):
            require_price(bad)
