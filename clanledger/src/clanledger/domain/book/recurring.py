"""The dates of a recurring rule: weekly, monthly or yearly, every ``n``.

A monthly rule on day 31 falls on the last day of shorter months (Feb 28, or 29 in a leap
year); a yearly rule started on Feb 29 falls on Feb 28 in other years. Dates are counted
from the start, so a short month never drags the later ones earlier (31 Jan, 28 Feb,
31 Mar, not 28 Mar).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, timedelta

from clanledger.domain.book.errors import BookInputError
from clanledger.domain.book.kinds import Frequency
from clanledger.domain.messages import N_

MAX_EVERY = 52


def occurrence(frequency: Frequency, every: int, day: int | None, starts_on: date, n: int) -> date:
    """The ``n``-th date of the rule (``n`` = 0 is the first)."""
    if frequency is Frequency.WEEKLY:
        return starts_on + timedelta(weeks=every * n)
    wanted = day or starts_on.day
    if frequency is Frequency.MONTHLY:
        index = starts_on.year * 12 + starts_on.month - 1 + every * n
        year, month = divmod(index, 12)
        month += 1
    else:
        year, month = starts_on.year + every * n, starts_on.month
    return date(year, month, min(wanted, calendar.monthrange(year, month)[1]))


def validate_rule(frequency: Frequency, every: int, day: int | None, starts_on: date) -> None:
    """Raise :class:`BookInputError` for a rule that cannot make dates."""
    if not 1 <= every <= MAX_EVERY:
        raise BookInputError(
            N_("Repeat every 1 to %(max)d periods."), {"max": MAX_EVERY}, field="every"
        )
    if day is not None and frequency is not Frequency.WEEKLY and not 1 <= day <= 31:
        raise BookInputError(N_("The day of the month is 1 to 31."), field="day")


def dates(
    frequency: Frequency,
    every: int,
    day: int | None,
    starts_on: date,
    through: date,
    ends_on: date | None = None,
) -> Iterator[date]:
    """Every date of the rule from ``starts_on`` up to ``through`` (and ``ends_on``)."""
    last = min(through, ends_on) if ends_on else through
    # A monthly rule on the 5th started on the 20th begins next month: dates before the
    # start are skipped, not moved.
    n = 0
    while True:
        when = occurrence(frequency, every, day, starts_on, n)
        if when > last:
            return
        if when >= starts_on:
            yield when
        n += 1


def next_after(
    frequency: Frequency, every: int, day: int | None, starts_on: date, after: date
) -> date:
    """The first date of the rule strictly after ``after``."""
    n = 0
    while True:
        when = occurrence(frequency, every, day, starts_on, n)
        if when > after and when >= starts_on:
            return when
        n += 1
