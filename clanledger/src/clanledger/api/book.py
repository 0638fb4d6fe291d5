"""The personal book (記帳) under ``/api/v1/book``: accounts, categories and transactions
of the token's user only, through the same services as the book's pages.

Only a token made with the personal scope reaches these routes; any other token gets 404
for every one of them (:mod:`clanledger.api.auth`). Another user's ids are 404 too: no clan
role reaches a book. Writes need a read-write token and take an ``Idempotency-Key``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import wraps
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from clanledger.api import book_schemas as schemas
from clanledger.api.auth import api_user_id
from clanledger.api.blueprint import bp
from clanledger.api.idempotency import KEY_PARAMETER, idempotent
from clanledger.api.paging import decode_cursor, encode_cursor
from clanledger.domain.book.kinds import TxnKind
from clanledger.domain.book.money import CURRENCIES, format_amount
from clanledger.extensions import db
from clanledger.i18n import DEFAULT_TIMEZONE
from clanledger.models.book import BookAccount, BookPosting, BookTransaction
from clanledger.services.book import api_reads, api_writes
from clanledger.services.book.api_reads import TxnPage
from clanledger.services.book.categories import full_name
from clanledger.web.book.common import open_book

TAG = {"tags": ["Personal book"]}
F = TypeVar("F", bound=Callable[..., Any])


def _owner() -> int:
    """The token's user, with their book made and its visit hooks run (as a page would)."""
    user_id = api_user_id()
    open_book(db.session, user_id)
    return user_id


def _own_transaction(view: F) -> F:
    """404 for another user's (or no) transaction before anything else is read: what was
    sent is judged only once the id is known to be the token user's own."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        api_reads.one_transaction(db.session, api_user_id(), kwargs["txn_id"])
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _decimal(minor: int, digits: int) -> str:
    return format_amount(minor, digits, grouping=False)


def _account_shown(row: api_reads.AccountRow) -> dict[str, Any]:
    account = row.account
    return {
        "id": account.id,
        "name": account.name,
        "type": account.type.value,
        "currency": account.currency,
        "minor_digits": account.minor_digits,
        "balance": row.balance,
        "balance_decimal": _decimal(row.balance, account.minor_digits),
        "closing_day": account.closing_day,
        "archived": account.archived,
        "read_only": account.read_only,
    }


def _main_lines(txn: BookTransaction) -> tuple[BookPosting | None, BookPosting | None]:
    """The account line a person thinks of (paid from, paid into, sent from) and, for a
    transfer, the destination's."""
    lines = [p for p in txn.postings if p.account_id is not None]
    if txn.kind is TxnKind.TRANSFER:
        source = next((p for p in lines if p.amount < 0), None)
        return source, next((p for p in lines if p.amount > 0), None)
    return (lines[0] if lines else None), None


def _digits(txn: BookTransaction, page: TxnPage) -> dict[str, int]:
    """The decimals of each currency of the transaction, from its accounts."""
    digits: dict[str, int] = {}
    for posting in txn.postings:
        account: BookAccount | None = page.accounts.get(posting.account_id or 0)
        if account is not None:
            digits.setdefault(posting.currency, account.minor_digits)
    return digits


def _shown(txn: BookTransaction, page: TxnPage) -> dict[str, Any]:
    main, target = _main_lines(txn)
    digits = _digits(txn, page)
    currency = main.currency if main else (txn.postings[0].currency if txn.postings else "")
    places = digits.get(
        currency, CURRENCIES[currency].minor_digits if currency in CURRENCIES else 0
    )
    amount = main.amount if main else 0
    if txn.kind in (TxnKind.EXPENSE, TxnKind.TRANSFER):
        amount = -amount
    postings = []
    for p in txn.postings:
        category = page.categories.get(p.category_id or 0)
        postings.append(
            {
                "account_id": p.account_id,
                "category_id": p.category_id,
                "category": full_name(category) if category is not None else None,
                "amount": p.amount,
                "amount_decimal": _decimal(p.amount, digits.get(p.currency, places)),
                "currency": p.currency,
                "memo": p.memo,
            }
        )
    return {
        "id": txn.id,
        "kind": txn.kind.value,
        "occurred_on": txn.occurred_on,
        "account_id": main.account_id if main else None,
        "to_account_id": target.account_id if target else None,
        "amount": amount,
        "amount_decimal": _decimal(amount, places),
        "currency": currency,
        "minor_digits": places,
        "payee": txn.payee,
        "note": txn.note,
        "tags": txn.tags.split(),
        "postings": postings,
        "import_id": txn.import_id,
        "recurring_id": txn.recurring_id,
        "read_only": txn.kind is TxnKind.CLAN,
        "deleted": txn.deleted_at is not None,
        "version": txn.version,
        "created_at": txn.created_at,
        "updated_at": txn.updated_at,
    }


def _one(user_id: int, txn_id: int) -> dict[str, Any]:
    page = api_reads.one_transaction(db.session, user_id, txn_id)
    return _shown(page.items[0], page)


def _today() -> date:
    return datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date()


def _values(args: dict[str, Any]) -> dict[str, Any]:
    return {**args, "occurred_on": args.get("occurred_on") or _today()}


@bp.get("/book/accounts")
@bp.doc(**TAG)
@bp.arguments(schemas.ArchivedArgs, location="query")
@bp.response(200, schemas.AccountList)
def book_account_list(args: dict[str, Any]) -> dict[str, Any]:
    """Your accounts with their balances, currency and decimals (a token with the personal
    scope only)."""
    rows = api_reads.account_rows(db.session, _owner(), include_archived=args["archived"])
    return {"items": [_account_shown(row) for row in rows]}


@bp.get("/book/categories")
@bp.doc(**TAG)
@bp.arguments(schemas.ArchivedArgs, location="query")
@bp.response(200, schemas.CategoryList)
def book_category_list(args: dict[str, Any]) -> dict[str, Any]:
    """Your categories as a tree: each top-level one with its subcategories."""

    def leaf(category: Any) -> dict[str, Any]:
        return {
            "id": category.id,
            "name": category.name,
            "kind": category.kind.value,
            "code": category.code,
            "archived": category.archived,
        }

    nodes = api_reads.category_tree(db.session, _owner(), include_archived=args["archived"])
    return {
        "items": [
            {**leaf(node.category), "children": [leaf(child) for child in node.children]}
            for node in nodes
        ]
    }


@bp.get("/book/transactions")
@bp.doc(**TAG)
@bp.arguments(schemas.TransactionArgs, location="query")
@bp.response(200, schemas.BookTransactionPage)
def book_transaction_list(args: dict[str, Any]) -> dict[str, Any]:
    """Your transactions, newest first; ``month``, ``account_id`` and ``category_id`` narrow
    the list (another user's account or category is 404)."""
    start, limit = decode_cursor("book-transactions", args["cursor"]), args["limit"]
    month = date.fromisoformat(args["month"] + "-01") if args["month"] else None
    page = api_reads.transaction_page(
        db.session,
        _owner(),
        month=month,
        account_id=args["account_id"],
        category_id=args["category_id"],
        include_deleted=args["deleted"],
        offset=start,
        limit=limit,
    )
    return {
        "items": [_shown(txn, page) for txn in page.items],
        "next_cursor": encode_cursor("book-transactions", start + limit) if page.more else None,
    }


@bp.get("/book/transactions/<int:txn_id>")
@bp.doc(**TAG)
@bp.response(200, schemas.BookTransactionSchema)
def book_transaction(txn_id: int) -> dict[str, Any]:
    """One of your transactions with all its lines (a deleted one too, marked)."""
    return _one(_owner(), txn_id)


@bp.post("/book/transactions")
@bp.doc(parameters=[KEY_PARAMETER], **TAG)
@idempotent
@bp.arguments(schemas.NewTransactionSchema)
@bp.response(201, schemas.BookTransactionSchema)
def book_transaction_create(args: dict[str, Any]) -> dict[str, Any]:
    """Record an expense or income (one ``category_id`` or ``splits``) or a transfer between
    your accounts (``to_account_id``; a card payment is one). Needs a read-write token;
    send an ``Idempotency-Key`` to retry safely."""
    user_id = _owner()
    txn = api_writes.record(db.session, user_id, _values(args))
    return _one(user_id, txn.id)


@bp.put("/book/transactions/<int:txn_id>")
@bp.doc(parameters=[KEY_PARAMETER], **TAG)
@idempotent
@_own_transaction
@bp.arguments(schemas.EditTransactionSchema)
@bp.response(200, schemas.BookTransactionSchema)
def book_transaction_edit(args: dict[str, Any], txn_id: int) -> dict[str, Any]:
    """Replace a transaction with what is sent (as for a new one) and ``version`` as read;
    a clan mirror line or a deleted one is 409. Needs a read-write token."""
    user_id = _owner()
    api_writes.update(db.session, user_id, txn_id, _values(args))
    return _one(user_id, txn_id)


@bp.delete("/book/transactions/<int:txn_id>")
@bp.doc(parameters=[KEY_PARAMETER], **TAG)
@idempotent
@_own_transaction
@bp.arguments(schemas.VersionArgs, location="query")
@bp.response(200, schemas.DeletedSchema)
def book_transaction_delete(args: dict[str, Any], txn_id: int) -> dict[str, Any]:
    """Delete a transaction (it is kept, marked deleted); ``audit_id`` undoes it. Needs a
    read-write token."""
    user_id = _owner()
    row = api_writes.delete(db.session, user_id, txn_id, args["version"])
    return {"transaction": _one(user_id, txn_id), "audit_id": row.id}


@bp.post("/book/audit/<int:audit_id>/undo")
@bp.doc(parameters=[KEY_PARAMETER], **TAG)
@idempotent
@bp.response(200, schemas.BookTransactionSchema)
def book_undo(audit_id: int) -> dict[str, Any]:
    """Undo one change of a transaction: a delete brings it back, a create deletes it, an
    edit restores what it was. Newer changes of it are undone first (else 409)."""
    user_id = _owner()
    txn = api_writes.undo(db.session, user_id, audit_id)
    return _one(user_id, txn.id)
