"""Budgets: how much of a category's monthly limit is spent and what is left."""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from clanledger.domain.book.errors import BookInputError
from clanledger.domain.messages import N_

_MONTH = re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$", re.ASCII)


@dataclass(frozen=True)
class BudgetStatus:
    """One category's month against its limit (amounts in minor units)."""

    category_id: int
    limit: int
    spent: int

    @property
    def left(self) -> int:
        """What can still be spent; < 0 once the limit is passed."""
        return self.limit - self.spent

    @property
    def over(self) -> bool:
        return self.spent > self.limit

    @property
    def percent(self) -> int:
        """Whole percent of the limit spent, rounded down (a 0 limit is 100 % once spent)."""
        if self.limit <= 0:
            return 100 if self.spent > 0 else 0
        return max(0, self.spent) * 100 // self.limit


def month_start(day: date) -> date:
    return day.replace(day=1)


def parse_month(text: str) -> date:
    """``"2026-12"`` (or ``2026/12``, ``2026年12月``, full-width digits) as the month's first
    day, between 1970 and 2999.

    Raises:
        BookInputError: not a month.
    """
    raw = unicodedata.normalize("NFKC", str(text or "")).strip()
    found = _MONTH.match(raw)
    if (
        found is None
        or not 1 <= int(found.group(2)) <= 12
        or not 1970 <= int(found.group(1)) <= 2999
    ):
        raise BookInputError(
            N_("%(text)s is not a month: use the form 2026-12."), {"text": raw[:20]}, field="month"
        )
    return date(int(found.group(1)), int(found.group(2)), 1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(month: date, n: int) -> date:
    """The first day of the month ``n`` months after ``month``'s."""
    index = month.year * 12 + month.month - 1 + n
    year, m = divmod(index, 12)
    return date(year, m + 1, 1)


def pace(limit: int, today: date) -> int:
    """What an even pace would have spent of ``limit`` by the end of ``today`` (floor)."""
    days = calendar.monthrange(today.year, today.month)[1]
    return limit * today.day // days


def statuses(limits: dict[int, int], spent: dict[int, int]) -> list[BudgetStatus]:
    """A status for every budgeted category, the most used first."""
    rows = [BudgetStatus(cat, limit, spent.get(cat, 0)) for cat, limit in limits.items()]
    return sorted(rows, key=lambda s: (-s.spent * 10_000 // max(s.limit, 1), s.category_id))
