"""Budget arithmetic: what is left, over, percent, the even pace and months."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clanledger.domain.book.budget import (
    BudgetStatus,
    add_months,
    month_end,
    pace,
    parse_month,
    statuses,
)
from clanledger.domain.book.errors import BookInputError


def test_left_over_and_percent():
    s = BudgetStatus(1, 5000, 5200)
    assert s.left == -200 and s.over and s.percent == 104
    assert BudgetStatus(1, 5000, 4999).percent == 99 and not BudgetStatus(1, 5000, 5000).over
    assert BudgetStatus(1, 5000, -300).percent == 0  # more refunded than spent
    assert BudgetStatus(1, 0, 1).percent == 100 and BudgetStatus(1, 0, 0).percent == 0


def test_even_pace_in_february_of_a_leap_year():
    assert pace(2900, date(2028, 2, 29)) == 2900
    assert pace(2900, date(2028, 2, 10)) == 1000
    assert pace(2800, date(2027, 2, 14)) == 1400


def test_month_helpers_across_year_ends_and_leap_years():
    assert add_months(date(2026, 12, 1), 1) == date(2027, 1, 1)
    assert add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert month_end(date(2028, 2, 3)) == date(2028, 2, 29)
    assert month_end(date(2100, 2, 3)) == date(2100, 2, 28)


def test_statuses_put_the_most_used_first():
    rows = statuses({1: 1000, 2: 100, 3: 500}, {1: 500, 2: 150})
    assert [r.category_id for r in rows] == [2, 1, 3]


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("2026-12", date(2026, 12, 1)),
        ("２０２６－０３", date(2026, 3, 1)),
        ("2026年3月", date(2026, 3, 1)),
        ("2026/1", date(2026, 1, 1)),
        (" 2026.07 ", date(2026, 7, 1)),
    ],
)
def test_months_are_read_as_typed(text, month):
    assert parse_month(text) == month


@pytest.mark.parametrize(
    "text", ["", "2026", "2026-13", "2026-00", "1969-12", "3000-01", "abc", "2026-1-1", "٢٠٢٦-١٢"]
)
def test_bad_months_are_refused(text):
    with pytest.raises(BookInputError):
        parse_month(text)


@given(limit=st.integers(0, 10**12), day=st.integers(1, 31), month=st.integers(1, 12))
def test_pace_never_exceeds_the_limit_and_reaches_it_on_the_last_day(limit, day, month):
    last = month_end(date(2027, month, 1))
    today = date(2027, month, min(day, last.day))
    assert 0 <= pace(limit, today) <= limit
    assert pace(limit, last) == limit
