"""Budgets: a monthly spending limit per expense category, and how each month stands.

A budget is for one month (``month`` = its first day) or for every month (``month`` NULL);
a month's own row wins over the every-month one. A budget on a top-level category counts
its subcategories too. Spending is the sum of the expense-category lines of the month:
a refund (a negative line) reduces it; transfers, opening balances and deleted
transactions never count. A budget is in one currency (the book's default when it was set)
and counts only spending in that currency.

Budget amounts are stored in the currency's usual decimals (TWD 0, USD 2); spending comes
from accounts that may keep more decimals, so a month's figures are shown with the most
decimals any of them needs (exact, no rounding).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from clanledger.domain.book import budget as budget_math
from clanledger.domain.book.budget import BudgetStatus, add_months, month_end, month_start
from clanledger.domain.book.kinds import CategoryKind, TxnKind
from clanledger.domain.book.money import CURRENCIES, MAX_AMOUNT, parse_amount, rescale
from clanledger.domain.messages import N_
from clanledger.models.book import (
    BookAccount,
    BookBudget,
    BookCategory,
    BookPosting,
    BookProfile,
    BookTransaction,
)
from clanledger.services.book import audit
from clanledger.services.book.categories import full_name, get_category
from clanledger.services.book.errors import as_validation
from clanledger.services.errors import NotFound, ValidationError, commit_or_conflict

TAKEN = N_("This budget was changed in another tab. Reload the page and try again.")
FIRST_MONTH = date(1970, 1, 1)
LAST_MONTH = date(2999, 12, 1)
NOT_COUNTED = (TxnKind.TRANSFER, TxnKind.OPENING)


@dataclass(frozen=True)
class BudgetLine:
    """One budgeted category in a month; amounts in ``digits`` decimals of ``currency``."""

    budget: BookBudget
    category: BookCategory
    name: str
    currency: str
    digits: int
    status: BudgetStatus
    pace: int  # what an even pace would have spent by today (the whole limit once past)

    @property
    def every_month(self) -> bool:
        return self.budget.month is None

    @property
    def stored_digits(self) -> int:
        """The decimals the budget's own amount is kept in (its currency's usual)."""
        return _usual(self.budget.currency)

    @property
    def ahead(self) -> bool:
        """Spent more than an even pace would have by now (but not over yet)."""
        return not self.status.over and self.status.spent > self.pace

    @property
    def bar(self) -> int:
        """The bar's filled width, 0-100 (percent of the limit, capped)."""
        return min(100, self.status.percent)


@dataclass(frozen=True)
class MonthBudgets:
    """A month's budgets. ``pace_percent`` is how far through the month ``today`` is (0
    before it, 100 after): where the even-pace marker sits on every bar."""

    month: date
    currency: str
    digits: int
    lines: list[BudgetLine]
    pace_percent: int

    @property
    def total_limit(self) -> int:
        return sum(line.status.limit for line in self._main())

    @property
    def total_spent(self) -> int:
        return sum(line.status.spent for line in self._main())

    @property
    def total_left(self) -> int:
        return self.total_limit - self.total_spent

    @property
    def total_bar(self) -> int:
        return min(100, BudgetStatus(0, self.total_limit, self.total_spent).percent)

    def _main(self) -> list[BudgetLine]:
        """The lines in the book's currency (totals never mix currencies)."""
        return [line for line in self.lines if line.currency == self.currency]


def get_budget(session: Session, user_id: int, budget_id: int) -> BookBudget:
    """One of the user's budgets, else :class:`NotFound`."""
    row = session.get(BookBudget, budget_id)
    if row is None or row.user_id != user_id:
        raise NotFound()
    return row


def book_currency(session: Session, user_id: int) -> str:
    """The currency new budgets use: the book's default."""
    profile = session.get(BookProfile, user_id)
    return profile.default_currency if profile is not None else "TWD"


def set_budget(
    session: Session, user_id: int, category_id: int, amount: str | int, month: date | None
) -> BookBudget:
    """Set (or change) the limit of an expense category for ``month``, or for every month
    when ``month`` is None. ``amount`` is text as typed (or whole minor units)."""
    category = _expense_category(session, user_id, category_id)
    month = _month(month)
    currency = book_currency(session, user_id)
    limit = _amount(amount, CURRENCIES[currency].minor_digits if currency in CURRENCIES else 0)
    row = _existing(session, user_id, category.id, month)
    before = _snapshot(row) if row is not None else None
    if row is None:
        row = BookBudget(user_id=user_id, category_id=category.id, month=month, currency=currency)
        session.add(row)
    row.amount = limit
    row.currency = currency
    session.flush()
    action = "create" if before is None else "update"
    audit.record(session, user_id, action, "budget", row.id, category.name, before, _snapshot(row))
    commit_or_conflict(session, TAKEN)
    return row


def remove_budget(session: Session, user_id: int, budget_id: int) -> None:
    """Remove a budget (a month's own row: the every-month one applies again, if any)."""
    row = get_budget(session, user_id, budget_id)
    audit.record(session, user_id, "delete", "budget", row.id, "", _snapshot(row))
    session.delete(row)
    commit_or_conflict(session, TAKEN)


def copy_last_month(session: Session, user_id: int, month: date) -> int:
    """Copy the previous month's own budgets into ``month`` (categories that already have
    one of their own this month keep it); returns how many were copied."""
    month = _month(month)
    assert month is not None
    previous = add_months(month, -1)
    have = set(
        session.scalars(
            select(BookBudget.category_id).where(
                BookBudget.user_id == user_id, BookBudget.month == month
            )
        )
    )
    rows = [
        row
        for row in session.scalars(
            select(BookBudget)
            .where(BookBudget.user_id == user_id, BookBudget.month == previous)
            .order_by(BookBudget.id)
        )
        if row.category_id not in have
    ]
    for row in rows:
        copy = BookBudget(
            user_id=user_id,
            category_id=row.category_id,
            month=month,
            amount=row.amount,
            currency=row.currency,
        )
        session.add(copy)
    session.flush()
    if rows:
        audit.record(session, user_id, "copy", "budget", None, f"{previous:%Y-%m} → {month:%Y-%m}")
    commit_or_conflict(session, TAKEN)
    return len(rows)


def month_budgets(session: Session, user_id: int, month: date, today: date) -> MonthBudgets:
    """Every budget in force in ``month`` with what was spent and what is left, the most
    used first. ``today`` places the even-pace marker."""
    month = _month(month)
    assert month is not None
    currency = book_currency(session, user_id)
    budgets = _in_force(session, user_id, month)
    categories = {
        c.id: c
        for c in session.scalars(select(BookCategory).where(BookCategory.user_id == user_id))
    }
    spent = _spent(session, user_id, month, categories)
    digits = _digits(budgets, spent)
    pace_percent = _pace_percent(month, today)
    lines = []
    for row in budgets:
        cur = row.currency
        limit = rescale(int(row.amount), _usual(cur), digits[cur])
        used = sum(
            rescale(total, d, digits[cur])
            for (cat, c, d), total in spent.items()
            if c == cur and cat == row.category_id
        )
        status = BudgetStatus(row.category_id, limit, used)
        pace = _pace(limit, month, today)
        category = categories[row.category_id]
        lines.append(BudgetLine(row, category, full_name(category), cur, digits[cur], status, pace))
    lines.sort(key=lambda ln: (-ln.status.spent * 10_000 // max(ln.status.limit, 1), ln.name))
    return MonthBudgets(
        month, currency, digits.get(currency, _usual(currency)), lines, pace_percent
    )


def budget_rows(session: Session, user_id: int) -> list[BookBudget]:
    """Every budget row of the user (every-month ones first, then by month)."""
    return list(
        session.scalars(
            select(BookBudget)
            .where(BookBudget.user_id == user_id)
            .order_by(BookBudget.month.is_not(None), BookBudget.month, BookBudget.id)
        )
    )


# ------------------------------------------------------------------------------ helpers


def _in_force(session: Session, user_id: int, month: date) -> list[BookBudget]:
    """The month's own rows, and the every-month rows of categories without one."""
    rows = session.scalars(
        select(BookBudget).where(
            BookBudget.user_id == user_id,
            (BookBudget.month == month) | BookBudget.month.is_(None),
        )
    )
    chosen: dict[int, BookBudget] = {}
    for row in rows:
        if row.category_id not in chosen or row.month is not None:
            chosen[row.category_id] = row
    return list(chosen.values())


def _spent(
    session: Session, user_id: int, month: date, categories: dict[int, BookCategory]
) -> dict[tuple[int, str, int], int]:
    """Spending per (budget category, currency, decimals) in ``month``: a subcategory's
    lines count for itself and for its top-level category."""
    line = aliased(BookPosting)
    side = aliased(BookPosting)
    rows = session.execute(
        select(line.category_id, line.currency, BookAccount.minor_digits, func.sum(line.amount))
        .join(BookTransaction, BookTransaction.id == line.transaction_id)
        .join(
            side,
            and_(
                side.transaction_id == line.transaction_id,
                side.account_id.is_not(None),
                side.currency == line.currency,
            ),
        )
        .join(BookAccount, BookAccount.id == side.account_id)
        .where(
            line.user_id == user_id,
            line.category_id.is_not(None),
            BookTransaction.user_id == user_id,
            BookTransaction.deleted_at.is_(None),
            BookTransaction.kind.not_in(NOT_COUNTED),
            BookTransaction.occurred_on >= month_start(month),
            BookTransaction.occurred_on <= month_end(month),
        )
        .group_by(line.category_id, line.currency, BookAccount.minor_digits)
    )
    out: dict[tuple[int, str, int], int] = defaultdict(int)
    for category_id, currency, digits, total in rows:
        category = categories.get(category_id)
        if category is None or category.kind is not CategoryKind.EXPENSE:
            continue
        out[(category_id, currency, digits)] += int(total or 0)
        if category.parent_id is not None:
            out[(category.parent_id, currency, digits)] += int(total or 0)
    return dict(out)


def _digits(budgets: list[BookBudget], spent: dict[tuple[int, str, int], int]) -> dict[str, int]:
    """Per currency, the decimals that show every figure exactly."""
    digits: dict[str, int] = {}
    for row in budgets:
        digits[row.currency] = max(digits.get(row.currency, 0), _usual(row.currency))
    for _cat, cur, d in spent:
        digits[cur] = max(digits.get(cur, 0), d)
    return digits


def _usual(currency: str) -> int:
    found = CURRENCIES.get(currency)
    return found.minor_digits if found else 0


def _pace(limit: int, month: date, today: date) -> int:
    """What an even pace spends of ``limit`` by the end of ``today``."""
    if today < month_start(month):
        return 0
    if today > month_end(month):
        return limit
    return budget_math.pace(limit, today)


def _pace_percent(month: date, today: date) -> int:
    if today < month_start(month):
        return 0
    if today > month_end(month):
        return 100
    return today.day * 100 // month_end(month).day


def _month(month: date | None) -> date | None:
    if month is None:
        return None
    if not isinstance(month, date) or not FIRST_MONTH <= month_start(month) <= LAST_MONTH:
        raise ValidationError(N_("Choose a month between 1970 and 2999."), field="month")
    return month_start(month)


def _amount(amount: str | int, digits: int) -> int:
    if isinstance(amount, bool):
        raise ValidationError(N_("Enter an amount."), field="amount")
    if isinstance(amount, int):
        if not 0 < amount <= MAX_AMOUNT:
            raise ValidationError(N_("The amount must be more than 0."), field="amount")
        return amount
    with as_validation():
        return parse_amount(amount, digits)


def _expense_category(session: Session, user_id: int, category_id: int) -> BookCategory:
    category = get_category(session, user_id, category_id)
    if category.kind is not CategoryKind.EXPENSE:
        raise ValidationError(N_("Budgets are for expense categories."), field="category_id")
    # Lock the category while its budget is checked and written: two tabs setting the
    # same every-month budget at once (NULL months are never equal for a unique key).
    session.execute(select(BookCategory.id).where(BookCategory.id == category.id).with_for_update())
    return category


def _existing(
    session: Session, user_id: int, category_id: int, month: date | None
) -> BookBudget | None:
    return session.scalar(
        select(BookBudget).where(
            BookBudget.user_id == user_id,
            BookBudget.category_id == category_id,
            BookBudget.month.is_(None) if month is None else BookBudget.month == month,
        )
    )


def _snapshot(row: BookBudget) -> dict:
    return {
        "category_id": row.category_id,
        "month": row.month.isoformat() if row.month else None,
        "amount": int(row.amount),
        "currency": row.currency,
    }
