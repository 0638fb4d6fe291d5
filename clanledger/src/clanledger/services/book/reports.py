"""Looking back (回顧): the book's postings read once, the figures computed by the domain
(:mod:`clanledger.domain.book.reports`, :mod:`clanledger.domain.book.review`).

One currency per report: the profile's default unless the book has postings in others and
the reader picks one; a currency the book never used is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clanledger.domain.book.budget import month_end
from clanledger.domain.book.kinds import AccountType
from clanledger.domain.book.money import CURRENCIES
from clanledger.domain.book.reports import (
    BudgetRow,
    MonthReport,
    Posting,
    YearReport,
    month_report,
    year_report,
)
from clanledger.domain.book.review import Highlights, highlights
from clanledger.domain.messages import N_
from clanledger.models.book import (
    BookAccount,
    BookBudget,
    BookCategory,
    BookPosting,
    BookProfile,
    BookTransaction,
)
from clanledger.services.errors import NotFound, ValidationError

FIRST_YEAR = 1970
LAST_YEAR = 2999


@dataclass(frozen=True)
class Names:
    """What a report page shows beside the ids: category names (a subcategory as
    "parent › child"), the currency's decimals and the currencies the reader can pick."""

    categories: dict[int, str]
    digits: int
    currencies: tuple[str, ...]


def currencies(session: Session, user_id: int) -> tuple[str, ...]:
    """The currencies of the book: the default first, then every other one a posting or an
    account uses, sorted."""
    profile = session.get(BookProfile, user_id)
    default = profile.default_currency if profile else "TWD"
    used = set(
        session.scalars(
            select(BookPosting.currency).where(BookPosting.user_id == user_id).distinct()
        )
    ) | set(
        session.scalars(
            select(BookAccount.currency).where(BookAccount.user_id == user_id).distinct()
        )
    )
    return (default, *sorted(used - {default}))


def pick_currency(session: Session, user_id: int, wanted: str | None) -> str:
    """``wanted`` when the book uses it, the default when None or empty.

    Raises:
        ValidationError: a currency the book does not use.
    """
    known = currencies(session, user_id)
    if not wanted:
        return known[0]
    code = str(wanted).strip().upper()
    if code not in known:
        raise ValidationError(
            N_("Your book has no amounts in %(code)s."), field="currency", params={"code": wanted}
        )
    return code


def check_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise NotFound()
    return year


def postings(session: Session, user_id: int, first: date, last: date) -> list[Posting]:
    """Every posting of the user's transactions dated ``first`` .. ``last`` (deleted ones
    left out), with its transaction's date, kind and payee and its category's parent."""
    query = (
        select(
            BookTransaction.id,
            BookTransaction.occurred_on,
            BookTransaction.kind,
            BookPosting.amount,
            BookPosting.currency,
            BookTransaction.payee,
            BookPosting.account_id,
            BookPosting.category_id,
            BookCategory.parent_id,
            BookCategory.kind,
            BookCategory.code,
        )
        .join(BookPosting, BookPosting.transaction_id == BookTransaction.id)
        .outerjoin(BookCategory, BookCategory.id == BookPosting.category_id)
        .where(
            BookTransaction.user_id == user_id,
            BookPosting.user_id == user_id,
            BookTransaction.deleted_at.is_(None),
            BookTransaction.occurred_on >= first,
            BookTransaction.occurred_on <= last,
        )
        .order_by(BookTransaction.occurred_on, BookTransaction.id, BookPosting.id)
    )
    return [
        Posting(
            txn_id=row[0],
            occurred_on=row[1],
            kind=str(row[2].value if hasattr(row[2], "value") else row[2]),
            amount=int(row[3]),
            currency=row[4],
            payee=row[5] or "",
            account_id=row[6],
            category_id=row[7],
            parent_id=row[8],
            category_kind=None if row[9] is None else str(getattr(row[9], "value", row[9])),
            category_code=row[10],
        )
        for row in session.execute(query)
    ]


def budgets(session: Session, user_id: int) -> list[BudgetRow]:
    rows = session.scalars(select(BookBudget).where(BookBudget.user_id == user_id))
    return [BudgetRow(b.category_id, b.month, int(b.amount), b.currency) for b in rows]


def parents(session: Session, user_id: int) -> dict[int, int | None]:
    rows = session.execute(
        select(BookCategory.id, BookCategory.parent_id).where(BookCategory.user_id == user_id)
    )
    return {cid: parent for cid, parent in rows}


def names(session: Session, user_id: int, currency: str) -> Names:
    """Category names and the decimals of ``currency`` in this book (its accounts')."""
    cats = list(session.scalars(select(BookCategory).where(BookCategory.user_id == user_id)))
    by_id = {c.id: c for c in cats}
    shown = {
        c.id: f"{by_id[c.parent_id].name} › {c.name}" if c.parent_id in by_id else c.name
        for c in cats
    }
    digits = session.scalar(
        select(BookAccount.minor_digits)
        .where(BookAccount.user_id == user_id, BookAccount.currency == currency)
        .order_by(BookAccount.id)
        .limit(1)
    )
    if digits is None:
        digits = CURRENCIES[currency].minor_digits if currency in CURRENCIES else 0
    return Names(shown, int(digits), currencies(session, user_id))


def month(session: Session, user_id: int, first: date, currency: str | None) -> MonthReport:
    """The month report of ``first``'s month."""
    code = pick_currency(session, user_id, currency)
    check_year(first.year)
    rows = postings(session, user_id, first.replace(day=1), month_end(first))
    return month_report(rows, first, code, budgets(session, user_id), parents(session, user_id))


def year(
    session: Session, user_id: int, year_number: int, currency: str | None, today: date
) -> YearReport:
    """The year report: 12 months of income and spending, and the budgets' months."""
    code = pick_currency(session, user_id, currency)
    check_year(year_number)
    rows = postings(session, user_id, date(year_number, 1, 1), date(year_number, 12, 31))
    through = None if year_number < today.year else today
    return year_report(
        rows, year_number, code, budgets(session, user_id), parents(session, user_id), through
    )


def review(
    session: Session, user_id: int, year_number: int, currency: str | None, today: date
) -> Highlights:
    """The year in review's highlights (the clan diamonds from the diamonds accounts)."""
    code = pick_currency(session, user_id, currency)
    check_year(year_number)
    rows = postings(session, user_id, date(year_number, 1, 1), date(year_number, 12, 31))
    diamonds = set(
        session.scalars(
            select(BookAccount.id).where(
                BookAccount.user_id == user_id, BookAccount.type == AccountType.DIAMONDS
            )
        )
    )
    return highlights(rows, year_number, code, today, diamonds)


BAD_MONTH = N_("%(text)s is not a month: use the form 2026-05.")
BAD_YEAR = N_("%(text)s is not a year: use the form 2026.")


def parse_month(text: str | None, today: date) -> date:
    """The first day of the month ``YYYY-MM`` (this month when absent).

    Raises:
        ValidationError: not a month, or outside 1970 .. 2999.
    """
    if not text:
        return today.replace(day=1)
    raw = str(text).strip()
    parts = raw.split("-")
    if (
        len(parts) != 2
        or not all(p.isascii() and p.isdigit() for p in parts)
        or len(parts[0]) != 4
        or len(parts[1]) not in (1, 2)
        or not 1 <= int(parts[1]) <= 12
        or not FIRST_YEAR <= int(parts[0]) <= LAST_YEAR
    ):
        raise ValidationError(BAD_MONTH, field="month", params={"text": raw[:20]})
    return date(int(parts[0]), int(parts[1]), 1)


def parse_year(text: str | None, today: date) -> int:
    """The year ``YYYY`` (this year when absent).

    Raises:
        ValidationError: not a year, or outside 1970 .. 2999.
    """
    if not text:
        return today.year
    raw = str(text).strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) == 4):
        raise ValidationError(BAD_YEAR, field="year", params={"text": raw[:20]})
    if not FIRST_YEAR <= int(raw) <= LAST_YEAR:
        raise ValidationError(BAD_YEAR, field="year", params={"text": raw})
    return int(raw)


@dataclass(frozen=True)
class Page:
    """A report with the names it is shown with."""

    report: Any
    names: Names


def month_page(
    session: Session, user_id: int, month_text: str | None, currency: str | None, today: date
) -> Page:
    """The month report page's data, from the query string's values."""
    first = parse_month(month_text, today)
    report = month(session, user_id, first, currency)
    return Page(report, names(session, user_id, report.currency))


def year_page(
    session: Session, user_id: int, year_text: str | None, currency: str | None, today: date
) -> Page:
    number = parse_year(year_text, today)
    report = year(session, user_id, number, currency, today)
    return Page(report, names(session, user_id, report.currency))


def review_page(
    session: Session, user_id: int, year_text: str | None, currency: str | None, today: date
) -> Page:
    number = parse_year(year_text, today)
    found = review(session, user_id, number, currency, today)
    return Page(found, names(session, user_id, found.currency))
