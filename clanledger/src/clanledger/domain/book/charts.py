"""The geometry of the report charts, in whole SVG units (no float: the shapes are drawn
from the same integers as the figures in the table beside them).

The donut is a circle drawn once per slice with ``pathLength="1000"``: a slice is a dash of
its permille, offset by the permilles before it, so the slices close exactly at 1000.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PALETTE = 10  # slice colours: c0 .. c9, the tenth and later share the last


@dataclass(frozen=True)
class Slice:
    index: int
    permille: int
    offset: int  # the permilles before it (the dash offset is minus this)
    colour: int

    @property
    def gap(self) -> int:
        return 1000 - self.permille


@dataclass(frozen=True)
class Column:
    """A month's pair of bars (income, spending) in a chart ``height`` units high."""

    index: int
    x: int
    income_height: int
    spending_height: int


def scaled(value: int, largest: int, size: int) -> int:
    """``value`` of ``largest`` as a length of at most ``size`` (floor; 0 for <= 0, and at
    least 1 for a value > 0 so that a small figure still shows)."""
    if value <= 0 or largest <= 0:
        return 0
    return max(1, value * size // largest)


def bar_widths(values: Sequence[int], size: int = 240) -> list[int]:
    """Horizontal bars: the largest value is ``size`` long."""
    largest = max(values, default=0)
    return [scaled(v, largest, size) for v in values]


def donut(permilles: Sequence[int]) -> list[Slice]:
    """The slices of the non-zero shares, in order (they add up to 1000 when the shares
    come from largest-remainder rounding)."""
    out, offset = [], 0
    for i, p in enumerate(permilles):
        if p > 0:
            out.append(Slice(i, p, offset, min(i, PALETTE - 1)))
            offset += p
    return out


def month_columns(
    pairs: Sequence[tuple[int, int]], height: int = 120, step: int = 30, bar: int = 12
) -> list[Column]:
    """Income and spending bars for each month, on one scale (the largest of both)."""
    largest = max((max(a, b) for a, b in pairs), default=0)
    return [
        Column(i, i * step, scaled(a, largest, height), scaled(b, largest, height))
        for i, (a, b) in enumerate(pairs)
    ]
