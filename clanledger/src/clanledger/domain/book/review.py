"""The year in review (年度回顧): a year's highlights as cards, from the same postings as the
reports (:mod:`clanledger.domain.book.reports`), in one currency, integers only."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from clanledger.domain.book.reports import (
    OPENING,
    CategoryShare,
    Expense,
    MonthRow,
    PayeeStat,
    Posting,
    biggest_expenses,
    category_shares,
    clan_diamonds,
    expenses,
    frequent_payees,
    no_spend_days,
    permille_of,
    year_report,
)


@dataclass(frozen=True)
class Highlights:
    """The year's cards. ``saving_permille`` is (income - spending) / income in permille
    (None without income); ``clan_diamonds`` is None when the book has no diamonds account."""

    year: int
    currency: str
    first: date  # the days counted: the year, or up to today in the current year
    last: date
    spending: int
    income: int
    saving_permille: int | None
    biggest_month: MonthRow | None
    top_category: CategoryShare | None
    top_payee: PayeeStat | None
    biggest_expense: Expense | None
    no_spend_days: int
    longest_streak: int
    streak_start: date | None
    transactions: int
    busiest_weekday: int | None  # 0 Monday .. 6 Sunday, by number of expenses
    busiest_weekday_count: int
    clan_diamonds: int | None

    @property
    def net(self) -> int:
        return self.income - self.spending

    @property
    def days(self) -> int:
        """The days counted (0 for a year that has not begun)."""
        return max(0, (self.last - self.first).days + 1)


def highlights(
    postings: Iterable[Posting],
    year: int,
    currency: str,
    today: date,
    diamond_accounts: set[int] | frozenset[int] = frozenset(),
) -> Highlights:
    """The highlights of ``year`` in ``currency`` as seen on ``today`` (the days after
    today are not counted as days without spending). ``postings`` may hold every currency:
    the clan diamonds are counted from the diamonds accounts whatever the currency."""
    everything = [p for p in postings if p.occurred_on.year == year]
    rows = [p for p in everything if p.currency == currency]
    first, last = date(year, 1, 1), min(date(year, 12, 31), today)
    report = year_report(rows, year, currency)
    spent_months = [m for m in report.months if m.spending > 0]
    biggest_month = max(spent_months, key=lambda m: (m.spending, -m.month.month), default=None)
    shares = category_shares(rows)
    payees = frequent_payees(rows, 1)
    biggest = biggest_expenses(rows, 1)
    days, longest, start = (0, 0, None) if last < first else no_spend_days(rows, first, last)
    weekdays = Counter(e.occurred_on.weekday() for e in expenses(rows))
    busiest = min(weekdays, key=lambda d: (-weekdays[d], d), default=None)
    income = report.income
    return Highlights(
        year=year,
        currency=currency,
        first=first,
        last=last,
        spending=report.spending,
        income=income,
        saving_permille=permille_of(income - report.spending, income) if income > 0 else None,
        biggest_month=biggest_month,
        top_category=shares[0] if shares and shares[0].amount > 0 else None,
        top_payee=payees[0] if payees else None,
        biggest_expense=biggest[0] if biggest else None,
        no_spend_days=days,
        longest_streak=longest,
        streak_start=start,
        transactions=len({p.txn_id for p in rows if p.kind != OPENING}),
        busiest_weekday=busiest,
        busiest_weekday_count=weekdays[busiest] if busiest is not None else 0,
        clan_diamonds=clan_diamonds(everything, year, set(diamond_accounts)),
    )
