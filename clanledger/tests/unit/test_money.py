from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from clanledger.domain.errors import DomainError, InvalidAmount, InvalidRate, NoRateInForce
from clanledger.domain.money import Rate, RateSchedule, require_diamonds


@pytest.mark.parametrize(
    ("text", "bps"), [("5", 500), ("2.5", 250), ("0", 0), ("12.75 %", 1275), (3, 300)]
)
def test_rate_from_percent(text, bps):
    assert Rate.from_percent(text).bps == bps


def test_rate_fraction_round_trip():
    rate = Rate.from_fraction(Fraction(1, 20))
    assert rate == Rate(500)
    assert rate.fraction == Fraction(1, 20)
    assert str(rate) == "5 %"
    assert Rate.from_percent(Decimal("99.99")).bps == 9999


@pytest.mark.parametrize("bad", ["100", "150", "-1", "0.001", "five", ""])
def test_rate_out_of_range_or_too_fine(bad):
    with pytest.raises(InvalidRate, match="rate"):
        Rate.from_percent(bad)


@pytest.mark.parametrize("bps", [10_000, -1, 1.5, True])
def test_rate_constructor_validates(bps):
    with pytest.raises(InvalidRate):
        Rate(bps)


def test_rate_errors_are_value_errors():
    assert issubclass(InvalidRate, DomainError)
    assert issubclass(DomainError, ValueError)


def test_rate_schedule_picks_rate_in_force():
    schedule = RateSchedule.of([(date(2026, 3, 1), Rate(300)), (date(2026, 1, 1), Rate(500))])
    assert schedule.rate_on(date(2026, 1, 1)) == Rate(500)
    assert schedule.rate_on(date(2026, 2, 28)) == Rate(500)
    assert schedule.rate_on(date(2026, 3, 1)) == Rate(300)
    assert schedule.rate_on(date(2030, 1, 1)) == Rate(300)
    with pytest.raises(NoRateInForce, match=r"2025-12-31.*first rate starts on 2026-01-01"):
        schedule.rate_on(date(2025, 12, 31))


def test_rate_schedule_rejects_duplicate_days():
    with pytest.raises(InvalidRate, match="two rates start on 2026-01-01"):
        RateSchedule.of([(date(2026, 1, 1), Rate(1)), (date(2026, 1, 1), Rate(2))])
    with pytest.raises(NoRateInForce):
        RateSchedule.of([])


@pytest.mark.parametrize("bad", [-1, 1.0, "3", True, None])
def test_require_diamonds(bad):
    with pytest.raises(InvalidAmount, match="price"):
        require_diamonds(bad, "price")
    assert require_diamonds(0) == 0
