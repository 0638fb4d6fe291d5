"""Reading the book: the transactions list (month, filters, search, paging), the home page's
figures, and what fast entry suggests (recent categories, payees, the last account).

Everything here only reads, and only the user's own rows; deleted transactions are left
out everywhere.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from clanledger.domain.book.budget import add_months, month_start
from clanledger.domain.book.kinds import CategoryKind, TxnKind
from clanledger.models.book import BookAccount, BookCategory, BookPosting, BookTransaction
from clanledger.services.book.accounts import balances, get_account, list_accounts
from clanledger.services.book.categories import get_category

PAGE_SIZE = 50
MAX_SEARCH = 100


@dataclass(frozen=True)
class Filters:
    """What the transactions list shows: one month (or all when ``month`` is None) and the
    optional filters; ids were checked to be the user's own by :func:`check_filters`."""

    month: date | None = None
    account_id: int | None = None
    category_id: int | None = None
    kind: TxnKind | None = None
    tag: str = ""
    search: str = ""


@dataclass
class TxnRow:
    """One transaction as a list shows it: the account side and the category side."""

    txn: BookTransaction
    accounts: list[BookAccount]
    categories: list[BookCategory]
    amount: int  # on the first account, signed: < 0 money out
    currency: str
    digits: int
    to_account: BookAccount | None = None

    @property
    def read_only(self) -> bool:
        return self.txn.kind is TxnKind.CLAN

    @property
    def tags(self) -> list[str]:
        return self.txn.tags.split() if self.txn.tags else []


@dataclass
class Page:
    rows: list[TxnRow]
    page: int
    pages: int
    total: int


@dataclass
class Suggestions:
    """What fast entry offers first."""

    expense_categories: list[int] = field(default_factory=list)
    income_categories: list[int] = field(default_factory=list)
    payees: list[str] = field(default_factory=list)
    payee_category: dict[str, int] = field(default_factory=dict)
    last_account_id: int | None = None


def check_filters(session: Session, user_id: int, filters: Filters) -> None:
    """Raise NotFound when a filter names another user's (or no) account or category."""
    if filters.account_id is not None:
        get_account(session, user_id, filters.account_id)
    if filters.category_id is not None:
        get_category(session, user_id, filters.category_id)


def list_transactions(
    session: Session, user_id: int, filters: Filters, page: int = 1, size: int = PAGE_SIZE
) -> Page:
    """The transactions matching ``filters``, newest first, ``size`` a page."""
    check_filters(session, user_id, filters)
    query = _filtered(session, user_id, filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    txns = session.scalars(
        query.options(selectinload(BookTransaction.postings))
        .order_by(BookTransaction.occurred_on.desc(), BookTransaction.id.desc())
        .offset((page - 1) * size)
        .limit(size)
    )
    return Page(rows(session, user_id, list(txns)), page, pages, total)


def latest(session: Session, user_id: int, count: int = 5) -> list[TxnRow]:
    """The ``count`` latest transactions (by date, then entry)."""
    txns = session.scalars(
        _live(user_id)
        .options(selectinload(BookTransaction.postings))
        .order_by(BookTransaction.occurred_on.desc(), BookTransaction.id.desc())
        .limit(count)
    )
    return rows(session, user_id, list(txns))


def rows(session: Session, user_id: int, txns: list[BookTransaction]) -> list[TxnRow]:
    """``txns`` with their accounts and categories resolved (two queries in all)."""
    accounts = {a.id: a for a in list_accounts(session, user_id, include_archived=True)}
    categories = {
        c.id: c
        for c in session.scalars(select(BookCategory).where(BookCategory.user_id == user_id))
    }
    return [_row(txn, accounts, categories) for txn in txns]


def _row(
    txn: BookTransaction, accounts: dict[int, BookAccount], categories: dict[int, BookCategory]
) -> TxnRow:
    account_lines = [p for p in txn.postings if p.account_id is not None]
    own = [accounts[p.account_id] for p in account_lines if p.account_id in accounts]
    cats = [categories[p.category_id] for p in txn.postings if p.category_id in categories]
    first = account_lines[0] if account_lines else None
    account = accounts.get(first.account_id) if first and first.account_id else None
    to_account = None
    if txn.kind is TxnKind.TRANSFER and len(own) > 1:
        to_account = own[1]
    return TxnRow(
        txn=txn,
        accounts=own,
        categories=cats,
        amount=first.amount if first else 0,
        currency=first.currency if first else "",
        digits=account.minor_digits if account else 0,
        to_account=to_account,
    )


def _live(user_id: int) -> Select:
    return select(BookTransaction).where(
        BookTransaction.user_id == user_id, BookTransaction.deleted_at.is_(None)
    )


def _filtered(session: Session, user_id: int, filters: Filters) -> Select:
    query = _live(user_id)
    if filters.month is not None:
        start = month_start(filters.month)
        query = query.where(
            BookTransaction.occurred_on >= start,
            BookTransaction.occurred_on < add_months(start, 1),
        )
    if filters.kind is not None:
        query = query.where(BookTransaction.kind == filters.kind)
    if filters.account_id is not None:
        query = query.where(_has_posting(BookPosting.account_id == filters.account_id))
    if filters.category_id is not None:
        ids = category_and_children(session, user_id, filters.category_id)
        query = query.where(_has_posting(BookPosting.category_id.in_(ids)))
    if filters.tag:
        padded = " " + BookTransaction.tags + " "
        query = query.where(padded.like("% " + _escape(filters.tag) + " %", escape="\\"))
    if filters.search:
        pattern = "%" + _escape(filters.search[:MAX_SEARCH]) + "%"
        query = query.where(
            or_(
                BookTransaction.payee.ilike(pattern, escape="\\"),
                BookTransaction.note.ilike(pattern, escape="\\"),
            )
        )
    return query


def _has_posting(condition) -> object:
    return (
        select(BookPosting.id)
        .where(BookPosting.transaction_id == BookTransaction.id, condition)
        .exists()
    )


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def category_and_children(session: Session, user_id: int, category_id: int) -> list[int]:
    """``category_id`` and its subcategories' ids (a filter on 餐飲 includes 午餐)."""
    children = session.scalars(
        select(BookCategory.id).where(
            BookCategory.user_id == user_id, BookCategory.parent_id == category_id
        )
    )
    return [category_id, *children]


def suggestions(session: Session, user_id: int, count: int = 8) -> Suggestions:
    """Recently used categories (per kind), payees and the last account used."""
    out = Suggestions()
    out.expense_categories = _recent_categories(session, user_id, CategoryKind.EXPENSE, count)
    out.income_categories = _recent_categories(session, user_id, CategoryKind.INCOME, count)
    latest_by_payee = dict(
        session.execute(
            _live(user_id)
            .with_only_columns(BookTransaction.payee, func.max(BookTransaction.id))
            .where(BookTransaction.payee != "")
            .group_by(BookTransaction.payee)
            .order_by(func.max(BookTransaction.id).desc())
            .limit(30)
        ).all()
    )
    out.payees = list(latest_by_payee)
    if latest_by_payee:
        pairs = session.execute(
            select(BookPosting.transaction_id, BookPosting.category_id).where(
                BookPosting.transaction_id.in_(latest_by_payee.values()),
                BookPosting.category_id.is_not(None),
            )
        ).all()
        by_txn = {txn_id: cat for txn_id, cat in pairs}
        out.payee_category = {
            payee: by_txn[txn_id] for payee, txn_id in latest_by_payee.items() if txn_id in by_txn
        }
    out.last_account_id = session.scalar(
        select(BookPosting.account_id)
        .join(BookTransaction, BookTransaction.id == BookPosting.transaction_id)
        .join(BookAccount, BookAccount.id == BookPosting.account_id)
        .where(
            BookTransaction.user_id == user_id,
            BookTransaction.deleted_at.is_(None),
            BookTransaction.kind.in_((TxnKind.EXPENSE, TxnKind.INCOME, TxnKind.TRANSFER)),
            BookAccount.archived.is_(False),
            BookAccount.read_only.is_(False),
        )
        .order_by(BookTransaction.id.desc(), BookPosting.id)
        .limit(1)
    )
    return out


def _recent_categories(session: Session, user_id: int, kind: CategoryKind, count: int) -> list[int]:
    last_use = func.max(BookTransaction.id)
    return list(
        session.scalars(
            select(BookPosting.category_id)
            .join(BookTransaction, BookTransaction.id == BookPosting.transaction_id)
            .join(BookCategory, BookCategory.id == BookPosting.category_id)
            .where(
                BookTransaction.user_id == user_id,
                BookTransaction.deleted_at.is_(None),
                BookCategory.kind == kind,
                BookCategory.archived.is_(False),
            )
            .group_by(BookPosting.category_id)
            .order_by(last_use.desc())
            .limit(count)
        )
    )


@dataclass
class MonthTotals:
    """Spending and income of one month, per currency, in minor units (both >= 0 unless
    refunds outweigh spending)."""

    spending: dict[str, int]
    income: dict[str, int]


def month_totals(session: Session, user_id: int, month: date) -> MonthTotals:
    """What was spent and earned in ``month`` (category lines of live transactions)."""
    start = month_start(month)
    result = session.execute(
        select(BookCategory.kind, BookPosting.currency, func.sum(BookPosting.amount))
        .join(BookTransaction, BookTransaction.id == BookPosting.transaction_id)
        .join(BookCategory, BookCategory.id == BookPosting.category_id)
        .where(
            and_(
                BookPosting.user_id == user_id,
                BookTransaction.deleted_at.is_(None),
                BookTransaction.occurred_on >= start,
                BookTransaction.occurred_on < add_months(start, 1),
            )
        )
        .group_by(BookCategory.kind, BookPosting.currency)
    )
    totals = MonthTotals({}, {})
    for kind, cur, amount in result:
        if kind is CategoryKind.EXPENSE or kind == CategoryKind.EXPENSE.value:
            totals.spending[cur] = int(amount or 0)
        else:
            totals.income[cur] = -int(amount or 0)
    return totals


def net_worth(session: Session, user_id: int) -> dict[str, int]:
    """The sum of every account's balance, per currency (a card's debt counts < 0)."""
    by_id = {a.id: a for a in list_accounts(session, user_id, include_archived=True)}
    out: dict[str, int] = defaultdict(int)
    for account_id, amount in balances(session, user_id).items():
        if account_id in by_id:
            out[by_id[account_id].currency] += amount
    return dict(sorted(out.items()))


def currency_digits(session: Session, user_id: int) -> dict[str, int]:
    """The decimals to show each currency's totals with (the most any account keeps)."""
    out: dict[str, int] = {}
    for account in list_accounts(session, user_id, include_archived=True):
        out[account.currency] = max(out.get(account.currency, 0), account.minor_digits)
    return out


def tags_in_use(session: Session, user_id: int, limit: int = 200) -> list[str]:
    """Every tag on a live transaction, sorted (for the tag filter)."""
    found: set[str] = set()
    for text in session.scalars(
        _live(user_id)
        .with_only_columns(BookTransaction.tags)
        .where(BookTransaction.tags != "")
        .distinct()
        .limit(2000)
    ):
        found.update(text.split())
    return sorted(found)[:limit]
