"""Looking back (回顧): a month's and a year's figures from the book's postings.

Everything is computed from plain :class:`Posting` records (no database here) in one
currency, in its minor unit, with integers only: a share of the spending is an exact
permille whose shown values add up to 1000 (largest-remainder rounding), never a float.

What counts (the sign convention of :mod:`clanledger.domain.book.entries`):

* **spending** is the sum of the expense-category lines (> 0; a refund line < 0 lowers it);
* **income** is minus the sum of the income-category lines;
* transfers and opening balances have no category line, so they are neither; they still
  count as transactions of the year. The service leaves deleted transactions out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from clanledger.domain.book import budget as budget_rules
from clanledger.domain.book.budget import BudgetStatus, month_start

TOP_N = 10
EXPENSE = "expense"
INCOME = "income"
OPENING = "opening"
CLAN_SHARE = "clan_share"


@dataclass(frozen=True)
class Posting:
    """One posting of a transaction, with what the reports need of its transaction and
    category. ``category_kind`` is ``"expense"``/``"income"`` for a category line."""

    txn_id: int
    occurred_on: date
    kind: str
    amount: int
    currency: str
    payee: str = ""
    account_id: int | None = None
    category_id: int | None = None
    parent_id: int | None = None
    category_kind: str | None = None
    category_code: str | None = None

    @property
    def top_id(self) -> int | None:
        """The top-level category the line belongs to (itself, or its parent)."""
        return self.parent_id if self.parent_id is not None else self.category_id

    @property
    def spending(self) -> int:
        return self.amount if self.category_kind == EXPENSE else 0

    @property
    def income(self) -> int:
        return -self.amount if self.category_kind == INCOME else 0


@dataclass(frozen=True)
class BudgetRow:
    """A ``BookBudget``: ``month`` is a month's first day, or None for every month."""

    category_id: int
    month: date | None
    amount: int
    currency: str


@dataclass(frozen=True)
class CategoryShare:
    """A top-level category's spending, its exact share, and its subcategories' parts
    (``children``: (category id, amount), the top-level id itself for lines on it)."""

    category_id: int
    amount: int
    permille: int
    percent: int
    children: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Expense:
    """One expense transaction (all its lines): the biggest ones of a period."""

    txn_id: int
    occurred_on: date
    payee: str
    amount: int
    category_id: int | None  # the category of its largest line


@dataclass(frozen=True)
class PayeeStat:
    payee: str
    count: int
    amount: int


@dataclass(frozen=True)
class MonthReport:
    month: date
    currency: str
    income: int
    spending: int
    categories: tuple[CategoryShare, ...]
    biggest: tuple[Expense, ...]
    payees: tuple[PayeeStat, ...]
    budgets: tuple[BudgetStatus, ...]

    @property
    def net(self) -> int:
        return self.income - self.spending

    @property
    def hits(self) -> tuple[BudgetStatus, ...]:
        return tuple(s for s in self.budgets if not s.over)

    @property
    def misses(self) -> tuple[BudgetStatus, ...]:
        return tuple(s for s in self.budgets if s.over)


@dataclass(frozen=True)
class MonthRow:
    month: date
    income: int
    spending: int

    @property
    def net(self) -> int:
        return self.income - self.spending


@dataclass(frozen=True)
class BudgetYear:
    """How many months a budgeted category stayed within (hits) or went over (misses)."""

    category_id: int
    hits: int
    misses: int


@dataclass(frozen=True)
class YearReport:
    year: int
    currency: str
    months: tuple[MonthRow, ...]
    budgets: tuple[BudgetYear, ...]

    @property
    def income(self) -> int:
        return sum(m.income for m in self.months)

    @property
    def spending(self) -> int:
        return sum(m.spending for m in self.months)

    @property
    def net(self) -> int:
        return self.income - self.spending


def largest_remainder(values: Sequence[int], whole: int) -> list[int]:
    """Shares of ``whole`` proportional to ``values`` (each >= 0) that add up to exactly
    ``whole`` (or are all 0 when the values are): each gets its floor, and what is left goes
    one by one to the largest remainders (ties: the larger value, then the earlier one)."""
    if any(v < 0 for v in values):
        raise ValueError("shares of negative values")
    total = sum(values)
    if total == 0:
        return [0 for _ in values]
    floors = [v * whole // total for v in values]
    left = whole - sum(floors)
    order = sorted(range(len(values)), key=lambda i: (-(values[i] * whole % total), -values[i], i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def permille_of(part: int, whole: int) -> int:
    """``part / whole`` in permille, rounded half away from zero (0 when ``whole`` is 0)."""
    if whole == 0:
        return 0
    sign = -1 if (part < 0) != (whole < 0) else 1
    a, b = abs(part), abs(whole)
    return sign * ((a * 2000 + b) // (2 * b))


def month_report(
    postings: Iterable[Posting],
    month: date,
    currency: str,
    budgets: Iterable[BudgetRow] = (),
    parents: dict[int, int | None] | None = None,
) -> MonthReport:
    """The figures of ``month`` (any day of it) in ``currency``. ``parents`` maps every
    category id to its parent (None for a top-level one), for the budgets."""
    first = month_start(month)
    rows = [
        p
        for p in postings
        if p.currency == currency and month_start(p.occurred_on) == first and p.kind != OPENING
    ]
    spent = category_spending(rows)
    return MonthReport(
        month=first,
        currency=currency,
        income=sum(p.income for p in rows),
        spending=sum(p.spending for p in rows),
        categories=category_shares(rows),
        biggest=tuple(biggest_expenses(rows)),
        payees=tuple(frequent_payees(rows)),
        budgets=tuple(budget_results(budgets, first, currency, spent, parents or {})),
    )


def category_spending(rows: Iterable[Posting]) -> dict[int, int]:
    """Spending per category id, as booked (a subcategory's is not in its parent's)."""
    out: dict[int, int] = defaultdict(int)
    for p in rows:
        if p.category_kind == EXPENSE and p.category_id is not None:
            out[p.category_id] += p.amount
    return dict(out)


def category_shares(rows: Iterable[Posting]) -> tuple[CategoryShare, ...]:
    """Spending per top-level category with its children, the largest first. Shares are
    of the categories with spending > 0 (a category refunded to <= 0 gets 0)."""
    tops: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for p in rows:
        if p.category_kind == EXPENSE and p.top_id is not None:
            tops[p.top_id][p.category_id or p.top_id] += p.amount
    totals = {top: sum(parts.values()) for top, parts in tops.items()}
    order = sorted(totals, key=lambda top: (-totals[top], top))
    positive = [max(totals[top], 0) for top in order]
    permilles = largest_remainder(positive, 1000)
    percents = largest_remainder(positive, 100)
    return tuple(
        CategoryShare(
            category_id=top,
            amount=totals[top],
            permille=permilles[i],
            percent=percents[i],
            children=tuple(sorted(tops[top].items(), key=lambda kv: (-kv[1], kv[0]))),
        )
        for i, top in enumerate(order)
    )


def expenses(rows: Iterable[Posting]) -> list[Expense]:
    """Every transaction with spending > 0, as one :class:`Expense` each."""
    lines: dict[int, list[Posting]] = defaultdict(list)
    for p in rows:
        if p.category_kind == EXPENSE:
            lines[p.txn_id].append(p)
    out = []
    for txn_id, parts in lines.items():
        amount = sum(p.amount for p in parts)
        if amount <= 0:
            continue
        largest = max(parts, key=lambda p: (p.amount, -(p.category_id or 0)))
        out.append(Expense(txn_id, parts[0].occurred_on, parts[0].payee, amount, largest.top_id))
    return out


def biggest_expenses(rows: Iterable[Posting], n: int = TOP_N) -> list[Expense]:
    """The ``n`` largest expenses (ties: the earlier date, then the earlier entry)."""
    return sorted(expenses(rows), key=lambda e: (-e.amount, e.occurred_on, e.txn_id))[:n]


def frequent_payees(rows: Iterable[Posting], n: int = TOP_N) -> list[PayeeStat]:
    """The payees paid most often (expenses with a payee): count, then amount, then name."""
    count: dict[str, int] = defaultdict(int)
    amount: dict[str, int] = defaultdict(int)
    for e in expenses(rows):
        payee = e.payee.strip()
        if payee:
            count[payee] += 1
            amount[payee] += e.amount
    ranked = sorted(count, key=lambda name: (-count[name], -amount[name], name))
    return [PayeeStat(name, count[name], amount[name]) for name in ranked[:n]]


def budget_limits(budgets: Iterable[BudgetRow], month: date, currency: str) -> dict[int, int]:
    """Each budgeted category's limit for ``month``: the month's own row wins over the
    every-month row (month None)."""
    first = month_start(month)
    limits: dict[int, int] = {}
    exact: set[int] = set()
    for row in budgets:
        if row.currency != currency:
            continue
        if row.month is not None and month_start(row.month) == first:
            limits[row.category_id] = row.amount
            exact.add(row.category_id)
        elif row.month is None and row.category_id not in exact:
            limits[row.category_id] = row.amount
    return limits


def budget_results(
    budgets: Iterable[BudgetRow],
    month: date,
    currency: str,
    spent: dict[int, int],
    parents: dict[int, int | None],
) -> list[BudgetStatus]:
    """Every budget of ``month`` against what was spent; a top-level category's budget
    counts its subcategories' spending too."""
    limits = budget_limits(budgets, month, currency)
    rolled: dict[int, int] = defaultdict(int)
    for category_id, amount in spent.items():
        rolled[category_id] += amount
        parent = parents.get(category_id)
        if parent is not None:
            rolled[parent] += amount
    return budget_rules.statuses(limits, dict(rolled))


def year_report(
    postings: Iterable[Posting],
    year: int,
    currency: str,
    budgets: Iterable[BudgetRow] = (),
    parents: dict[int, int | None] | None = None,
    through: date | None = None,
) -> YearReport:
    """Income and spending of each month of ``year`` (12 rows), and each budget's months
    within and over it (the months up to ``through``, all 12 when it is None)."""
    rows = [p for p in postings if p.currency == currency and p.occurred_on.year == year]
    by_month: dict[int, list[Posting]] = defaultdict(list)
    for p in rows:
        by_month[p.occurred_on.month].append(p)
    months = tuple(
        MonthRow(
            date(year, m, 1),
            sum(p.income for p in by_month[m]),
            sum(p.spending for p in by_month[m]),
        )
        for m in range(1, 13)
    )
    budget_list = list(budgets)
    tally: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    last = date(year, 12, 1) if through is None else month_start(through)
    for m in range(1, 13):
        first = date(year, m, 1)
        if first > last:
            break
        spent = category_spending(by_month[m])
        for status in budget_results(budget_list, first, currency, spent, parents or {}):
            tally[status.category_id][1 if status.over else 0] += 1
    return YearReport(
        year=year,
        currency=currency,
        months=months,
        budgets=tuple(BudgetYear(c, h, m) for c, (h, m) in sorted(tally.items())),
    )


def clan_diamonds(postings: Iterable[Posting], year: int, diamond_accounts: set[int]) -> int | None:
    """Diamonds earned in ``year`` from clan shares: the income lines in the category coded
    ``clan_share`` of transactions into a diamonds account. None without such an account."""
    if not diamond_accounts:
        return None
    rows = [p for p in postings if p.occurred_on.year == year]
    into = {p.txn_id for p in rows if p.account_id in diamond_accounts and p.amount > 0}
    return sum(p.income for p in rows if p.txn_id in into and p.category_code == CLAN_SHARE)


def no_spend_days(rows: Iterable[Posting], first: date, last: date) -> tuple[int, int, date | None]:
    """Days from ``first`` to ``last`` (included) without spending, the longest run of
    them, and the first day of that run (None when there is none)."""
    spent: dict[date, int] = defaultdict(int)
    for p in rows:
        if p.category_kind == EXPENSE:
            spent[p.occurred_on] += p.amount
    days = longest = run = 0
    start = best_start = None
    day = first
    while day <= last:
        if spent.get(day, 0) > 0:
            run = 0
        else:
            days += 1
            run += 1
            start = day if run == 1 else start
            if run > longest:
                longest, best_start = run, start
        day += timedelta(days=1)
    return days, longest, best_start
