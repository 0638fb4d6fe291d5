"""What the book's REST API reads: accounts with balances, the category tree and pages of
transactions, always of one user (another user's ids are :class:`NotFound`).

A page of transactions comes with the user's accounts and categories, so the API can show
each amount with its account's decimals and each line with its category's name without a
query per line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from clanledger.domain.book.budget import month_end, month_start
from clanledger.models.book import BookAccount, BookCategory, BookPosting, BookTransaction
from clanledger.services.book import accounts, categories
from clanledger.services.book.transactions import get_transaction

MAX_PAGE = 100


@dataclass(frozen=True)
class AccountRow:
    account: BookAccount
    balance: int  # in the account's minor unit


@dataclass
class TxnPage:
    """Transactions (newest first) with the owner's accounts and categories by id."""

    items: list[BookTransaction]
    accounts: dict[int, BookAccount] = field(default_factory=dict)
    categories: dict[int, BookCategory] = field(default_factory=dict)
    more: bool = False  # another page follows


def account_rows(session: Session, user_id: int, include_archived: bool = False):
    """The user's accounts in display order, each with its balance."""
    totals = accounts.balances(session, user_id)
    return [
        AccountRow(account, totals.get(account.id, 0))
        for account in accounts.list_accounts(session, user_id, include_archived)
    ]


def category_tree(session: Session, user_id: int, include_archived: bool = False):
    """The user's categories, top level with their children (expense first, then income)."""
    return categories.tree(session, user_id, include_archived=include_archived)


def transaction_page(
    session: Session,
    user_id: int,
    *,
    month: date | None = None,
    account_id: int | None = None,
    category_id: int | None = None,
    include_deleted: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> TxnPage:
    """The user's transactions, newest first, ``limit`` from ``offset``.

    Args:
        month: any day of the month wanted (the whole month is listed).
        account_id: only those touching this account (the user's, else NotFound).
        category_id: only those with a line in this category or one of its children.
        include_deleted: deleted ones too (they can still be undone).
    """
    query = select(BookTransaction).where(BookTransaction.user_id == user_id)
    if not include_deleted:
        query = query.where(BookTransaction.deleted_at.is_(None))
    if month is not None:
        query = query.where(
            BookTransaction.occurred_on >= month_start(month),
            BookTransaction.occurred_on <= month_end(month),
        )
    if account_id is not None:
        accounts.get_account(session, user_id, account_id)
        query = query.where(_has_line(BookPosting.account_id == account_id))
    if category_id is not None:
        ids = _category_and_children(session, user_id, category_id)
        query = query.where(_has_line(BookPosting.category_id.in_(ids)))
    query = (
        query.options(selectinload(BookTransaction.postings))
        .order_by(BookTransaction.occurred_on.desc(), BookTransaction.id.desc())
        .offset(offset)
        .limit(min(limit, MAX_PAGE) + 1)
    )
    found = list(session.scalars(query))
    page = _with_labels(session, user_id, found[:limit])
    page.more = len(found) > limit
    return page


def one_transaction(session: Session, user_id: int, txn_id: int) -> TxnPage:
    """One of the user's transactions (a deleted one too) as a page of one."""
    return _with_labels(session, user_id, [get_transaction(session, user_id, txn_id)])


def _has_line(condition) -> object:
    return exists().where(BookPosting.transaction_id == BookTransaction.id, condition)


def _category_and_children(session: Session, user_id: int, category_id: int) -> list[int]:
    category = categories.get_category(session, user_id, category_id)
    children = session.scalars(
        select(BookCategory.id).where(
            BookCategory.user_id == user_id, BookCategory.parent_id == category.id
        )
    )
    return [category.id, *children]


def _with_labels(session: Session, user_id: int, items: list[BookTransaction]) -> TxnPage:
    owned_accounts = {
        a.id: a for a in accounts.list_accounts(session, user_id, include_archived=True)
    }
    owned_categories = {
        c.id: c
        for c in session.scalars(select(BookCategory).where(BookCategory.user_id == user_id))
    }
    return TxnPage(items, owned_accounts, owned_categories)
