"""Diamonds and rates, without floats.

Diamonds are plain ``int``. A :class:`Rate` (exchange fee, clan-fund cut) is stored as whole
basis points (1 bp = 0.01 %), so ``Rate(bps=500)`` is 5 % and every computation with it is
exact integer arithmetic. A :class:`RateSchedule` says which rate was in force on which day.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from itertools import pairwise

from clanledger.domain.errors import InvalidAmount, InvalidRate, NoRateInForce, PriceOutOfRange

Diamonds = int
"""An amount of diamonds: always a whole number."""

BPS_PER_UNIT = 10_000
"""Basis points in 100 %."""


def require_diamonds(value: object, what: str = "amount") -> int:
    """Return ``value`` if it is a whole, non-negative number of diamonds.

    Raises:
        InvalidAmount: ``value`` is negative, fractional, a bool or not a number.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount(f"{what} must be a whole number of diamonds, got {value!r}")
    if value < 0:
        raise InvalidAmount(f"{what} cannot be negative, got {value}; enter 0 or more diamonds")
    return value


MIN_PRICE = 1
MAX_PRICE = 10**12
"""A listing or sale price is between these (inclusive), in diamonds."""


def require_price(value: object, what: str = "price") -> int:
    """Return ``value`` if it is a whole number of diamonds from ``MIN_PRICE`` to
    ``MAX_PRICE``.

    Raises:
        InvalidAmount: not a whole number.
        PriceOutOfRange: below ``MIN_PRICE`` or above ``MAX_PRICE``.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount(f"{what} must be a whole number of diamonds, got {value!r}")
    if value < MIN_PRICE:
        raise PriceOutOfRange(f"{what} must be above 0 diamonds, got {value}", too_high=False)
    if value > MAX_PRICE:
        raise PriceOutOfRange(f"{what} must be at most {MAX_PRICE}, got {value}", too_high=True)
    return value


@dataclass(frozen=True, order=True)
class Rate:
    """A rate between 0 % (inclusive) and 100 % (exclusive), in whole basis points.

    Attributes:
        bps: the rate in basis points: 500 is 5 %, 1 is 0.01 %.
    """

    bps: int

    def __post_init__(self) -> None:
        if isinstance(self.bps, bool) or not isinstance(self.bps, int):
            raise InvalidRate(f"a rate is a whole number of basis points, got {self.bps!r}")
        if not 0 <= self.bps < BPS_PER_UNIT:
            raise InvalidRate(
                f"a rate must be at least 0 % and below 100 %, got {Fraction(self.bps, 100)} %"
            )

    @classmethod
    def from_percent(cls, percent: str | int | Decimal | Fraction) -> Rate:
        """Parse a percentage such as ``"5"``, ``"2.5"`` or ``"12.75"`` (at most 2 decimals).

        Raises:
            InvalidRate: not a number, finer than 0.01 %, negative, or 100 % or more.
        """
        try:
            value = Fraction(str(percent).strip().rstrip("%").strip())
        except (ValueError, ZeroDivisionError, InvalidOperation):
            raise InvalidRate(
                f"a rate must be a percentage such as 5 or 2.5, got {percent!r}"
            ) from None
        bps = value * 100
        if bps.denominator != 1:
            raise InvalidRate(
                f"a rate can have at most two decimals (0.01 % steps), got {percent!r}"
            )
        return cls(int(bps))

    @classmethod
    def from_fraction(cls, fraction: Fraction | int) -> Rate:
        """Build a rate from an exact fraction of one (``Fraction(1, 20)`` is 5 %).

        Raises:
            InvalidRate: the fraction is not a whole number of basis points or is out of range.
        """
        bps = Fraction(fraction) * BPS_PER_UNIT
        if bps.denominator != 1:
            raise InvalidRate(f"a rate must be a whole number of basis points, got {fraction}")
        return cls(int(bps))

    @property
    def fraction(self) -> Fraction:
        """The rate as an exact fraction of one."""
        return Fraction(self.bps, BPS_PER_UNIT)

    @property
    def percent(self) -> Decimal:
        """The rate in percent, for display (``Decimal('5.00')``)."""
        return Decimal(self.bps) / 100

    def __str__(self) -> str:
        return f"{self.percent.normalize():f} %"


ZERO_RATE = Rate(0)


@dataclass(frozen=True)
class RateSchedule:
    """Rates with the day each takes effect; a rate holds until the next one starts.

    ``entries`` are ``(effective_from, rate)`` pairs in any order (any iterable); they are
    stored sorted by day as a tuple. Two rates cannot start on the same day.
    """

    entries: tuple[tuple[date, Rate], ...]

    def __post_init__(self) -> None:
        entries = tuple(sorted(self.entries, key=lambda entry: entry[0]))
        object.__setattr__(self, "entries", entries)
        if not entries:
            raise NoRateInForce("a rate schedule needs at least one rate with its start day")
        for (day, _), (next_day, _) in pairwise(entries):
            if day == next_day:
                raise InvalidRate(
                    f"two rates start on {day.isoformat()}; keep one rate per start day"
                )
        for day, rate in entries:
            if not isinstance(rate, Rate):
                raise InvalidRate(f"the rate starting {day.isoformat()} must be a Rate")

    @classmethod
    def of(cls, entries: Iterable[tuple[date, Rate]]) -> RateSchedule:
        """Build a schedule from ``(effective_from, rate)`` pairs in any order."""
        return cls(tuple(entries))

    def rate_on(self, day: date) -> Rate:
        """The rate in force on ``day``.

        Raises:
            NoRateInForce: ``day`` is before the first rate took effect.
        """
        index = bisect.bisect_right([d for d, _ in self.entries], day) - 1
        if index < 0:
            first = self.entries[0][0]
            raise NoRateInForce(
                f"no rate is in force on {day.isoformat()}: the first rate starts on "
                f"{first.isoformat()}; add a rate that starts on or before that day"
            )
        return self.entries[index][1]
