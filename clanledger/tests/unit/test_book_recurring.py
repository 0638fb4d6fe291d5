"""Recurring dates: month ends, leap years, weekly, every n, end dates, a mid-month start."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clanledger.domain.book.errors import BookInputError
from clanledger.domain.book.kinds import Frequency
from clanledger.domain.book.recurring import dates, next_after, occurrence, validate_rule

M, W, Y = Frequency.MONTHLY, Frequency.WEEKLY, Frequency.YEARLY


def test_monthly_on_the_31st_falls_on_each_month_end_without_drifting():
    got = list(dates(M, 1, 31, date(2027, 1, 31), date(2027, 5, 31)))
    assert got == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
        date(2027, 5, 31),
    ]


def test_february_29_in_a_leap_year():
    got = list(dates(M, 1, 31, date(2028, 1, 31), date(2028, 3, 31)))
    assert got == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)]


def test_yearly_from_february_29_falls_on_the_28th_in_other_years():
    got = list(dates(Y, 1, None, date(2028, 2, 29), date(2033, 12, 31)))
    assert got == [
        date(2028, 2, 29),
        date(2029, 2, 28),
        date(2030, 2, 28),
        date(2031, 2, 28),
        date(2032, 2, 29),
        date(2033, 2, 28),
    ]


def test_weekly_and_every_two_weeks():
    start = date(2026, 12, 28)
    assert list(dates(W, 1, None, start, date(2027, 1, 18))) == [
        start + timedelta(weeks=n) for n in range(4)
    ]
    assert list(dates(W, 2, None, start, date(2027, 1, 25))) == [
        date(2026, 12, 28),
        date(2027, 1, 11),
        date(2027, 1, 25),
    ]


def test_every_two_months_across_a_year_end():
    got = list(dates(M, 2, 15, date(2026, 11, 15), date(2027, 6, 30)))
    assert got == [date(2026, 11, 15), date(2027, 1, 15), date(2027, 3, 15), date(2027, 5, 15)]


def test_the_end_date_stops_the_rule_and_is_included():
    got = list(dates(M, 1, 5, date(2026, 1, 5), date(2030, 1, 1), ends_on=date(2026, 3, 5)))
    assert got == [date(2026, 1, 5), date(2026, 2, 5), date(2026, 3, 5)]


def test_a_start_mid_month_skips_the_day_already_passed():
    got = list(dates(M, 1, 5, date(2026, 1, 20), date(2026, 3, 31)))
    assert got == [date(2026, 2, 5), date(2026, 3, 5)]
    assert next_after(M, 1, 5, date(2026, 1, 20), date(2026, 1, 19)) == date(2026, 2, 5)


@pytest.mark.parametrize(
    ("frequency", "every", "day"), [(M, 0, 1), (M, 53, 1), (M, 1, 0), (M, 1, 32), (Y, 1, 40)]
)
def test_rules_that_cannot_make_dates_are_refused(frequency, every, day):
    with pytest.raises(BookInputError):
        validate_rule(frequency, every, day, date(2026, 1, 1))


@given(
    start=st.dates(date(1970, 1, 1), date(2990, 12, 31)),
    every=st.integers(1, 12),
    day=st.integers(1, 31),
    n=st.integers(0, 200),
)
def test_monthly_dates_keep_their_day_or_the_month_end(start, every, day, n):
    when = occurrence(M, every, day, start, n)
    months = (when.year - start.year) * 12 + when.month - start.month
    assert months == every * n
    following = when + timedelta(days=1)
    assert when.day == day or (when.day < day and following.month != when.month)


@given(
    start=st.dates(date(1970, 1, 1), date(2900, 12, 31)),
    frequency=st.sampled_from([M, W, Y]),
    every=st.integers(1, 6),
)
def test_dates_rise_strictly_and_next_after_agrees(start, frequency, every):
    got = list(dates(frequency, every, None, start, start + timedelta(days=800)))
    assert got == sorted(set(got)) and all(d >= start for d in got)
    for earlier, later in itertools.pairwise(got):
        assert next_after(frequency, every, None, start, earlier) == later
