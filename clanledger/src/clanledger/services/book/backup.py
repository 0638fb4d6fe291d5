"""The JSON backup of a whole personal book and its exact restore.

The backup holds the profile, accounts, categories, import runs, recurring rules,
transactions (deleted ones too, with their postings) and budgets, each row with its id.
A restore checks the whole file first (:mod:`clanledger.domain.book.backup_check`), then
replaces the book in one database transaction: new ids, every reference remapped, and an
audit row saying what was restored. A book that already has transactions is replaced only
when the reader confirmed it; otherwise, and on any refusal, nothing changes.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from clanledger.domain.book.backup_check import parse_backup
from clanledger.domain.book.backup_format import FORMAT, VERSION
from clanledger.domain.messages import N_
from clanledger.models.book import (
    BookAccount,
    BookAudit,
    BookBudget,
    BookCategory,
    BookImport,
    BookPosting,
    BookProfile,
    BookRecurring,
    BookTransaction,
)
from clanledger.models.types import utcnow
from clanledger.services.book import audit
from clanledger.services.book.accounts import ensure_book
from clanledger.services.book.errors import as_validation
from clanledger.services.errors import Conflict, ValidationError

NOT_EMPTY = N_(
    "Your book already has %(count)s transactions: confirm that the backup replaces the whole book."
)
CLASHES = N_("The backup could not be restored: two of its rows clash (%(detail)s).")


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _value(value: Any) -> Any:
    return getattr(value, "value", value)


def _rows(session: Session, model: Any, user_id: int) -> list[Any]:
    return list(session.scalars(select(model).where(model.user_id == user_id).order_by(model.id)))


def backup(session: Session, user_id: int) -> dict[str, Any]:
    """The whole book as a JSON-ready dict (format :data:`FORMAT`, version :data:`VERSION`)."""
    profile = ensure_book(session, user_id)
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": utcnow().isoformat(),
        "profile": {
            "default_currency": profile.default_currency,
            "clan_link_account": profile.clan_link_account_id,
        },
        "accounts": [_account(a) for a in _rows(session, BookAccount, user_id)],
        "categories": _categories(_rows(session, BookCategory, user_id)),
        "imports": [_import(i) for i in _rows(session, BookImport, user_id)],
        "recurring": [_rule(r) for r in _rows(session, BookRecurring, user_id)],
        "transactions": [_txn(t) for t in _rows(session, BookTransaction, user_id)],
        "budgets": [
            {
                "id": b.id,
                "category": b.category_id,
                "month": _iso(b.month),
                "amount": int(b.amount),
                "currency": b.currency,
            }
            for b in _rows(session, BookBudget, user_id)
        ],
    }


def backup_bytes(session: Session, user_id: int) -> bytes:
    """:func:`backup` as indented UTF-8 JSON (Chinese names kept readable)."""
    return json.dumps(backup(session, user_id), ensure_ascii=False, indent=1).encode("utf-8")


def _account(a: BookAccount) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "type": _value(a.type),
        "currency": a.currency,
        "minor_digits": a.minor_digits,
        "closing_day": a.closing_day,
        "archived": a.archived,
        "read_only": a.read_only,
        "sort": a.sort,
        "created_at": _iso(a.created_at),
    }


def _categories(rows: list[BookCategory]) -> list[dict[str, Any]]:
    """Top-level categories first, so a parent always comes before its children."""
    ordered = [c for c in rows if c.parent_id is None] + [c for c in rows if c.parent_id]
    return [
        {
            "id": c.id,
            "parent": c.parent_id,
            "kind": _value(c.kind),
            "name": c.name,
            "code": c.code,
            "archived": c.archived,
            "sort": c.sort,
        }
        for c in ordered
    ]


def _import(i: BookImport) -> dict[str, Any]:
    return {
        "id": i.id,
        "source": i.source,
        "filename": i.filename,
        "rows_read": i.rows_read,
        "rows_imported": i.rows_imported,
        "rows_duplicate": i.rows_duplicate,
        "mapping": i.mapping,
        "undone_at": _iso(i.undone_at),
        "created_at": _iso(i.created_at),
    }


def _rule(r: BookRecurring) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "kind": _value(r.kind),
        "amount": int(r.amount),
        "account": r.account_id,
        "to_account": r.to_account_id,
        "category": r.category_id,
        "payee": r.payee,
        "note": r.note,
        "frequency": _value(r.frequency),
        "every": r.every,
        "day": r.day,
        "starts_on": _iso(r.starts_on),
        "ends_on": _iso(r.ends_on),
        "next_on": _iso(r.next_on),
        "active": r.active,
        "created_at": _iso(r.created_at),
    }


def _txn(t: BookTransaction) -> dict[str, Any]:
    return {
        "id": t.id,
        "kind": _value(t.kind),
        "occurred_on": _iso(t.occurred_on),
        "payee": t.payee,
        "note": t.note,
        "tags": t.tags,
        "source_ref": t.source_ref,
        "import": t.import_id,
        "recurring": t.recurring_id,
        "deleted_at": _iso(t.deleted_at),
        "created_at": _iso(t.created_at),
        "updated_at": _iso(t.updated_at),
        "postings": [
            {
                "account": p.account_id,
                "category": p.category_id,
                "amount": int(p.amount),
                "currency": p.currency,
                "memo": p.memo,
            }
            for p in t.postings
        ],
    }


def transaction_count(session: Session, user_id: int) -> int:
    """How many transactions the book holds (deleted ones too: a restore replaces them)."""
    return int(session.scalar(select(func.count()).where(BookTransaction.user_id == user_id)) or 0)


def restore(session: Session, user_id: int, raw: bytes | str, replace: bool = False) -> int:
    """Replace the user's book with the backup ``raw``; returns the transactions restored.

    Raises:
        ValidationError: the file is refused (one line naming the problem).
        Conflict: the book has transactions and ``replace`` was not confirmed.
    """
    with as_validation():
        parsed = parse_backup(raw)
    profile = ensure_book(session, user_id)
    existing = transaction_count(session, user_id)
    if existing and not replace:
        raise Conflict(NOT_EMPTY, {"count": existing})
    try:
        _wipe(session, user_id, profile)
        ids = _write(session, user_id, parsed)
        profile.default_currency = parsed["profile"]["default_currency"]
        link = parsed["profile"]["clan_link_account"]
        profile.clan_link_account_id = None if link is None else ids["accounts"][link]
        session.flush()
    except (IntegrityError, DataError) as exc:
        session.rollback()
        raise ValidationError(CLASHES, params={"detail": str(exc.orig)[:80]}) from None
    except Exception:
        session.rollback()
        raise
    count = len(parsed["transactions"])
    audit.record(
        session,
        user_id,
        "restore",
        "book",
        None,
        f"{count} transactions",
        before={"transactions": existing},
        after={"transactions": count, "accounts": len(parsed["accounts"])},
    )
    session.commit()
    return count


def _wipe(session: Session, user_id: int, profile: BookProfile) -> None:
    """Remove every row of the book (not its audit trail), children before parents."""
    profile.clan_link_account_id = None
    session.flush()
    for model in (BookPosting, BookTransaction, BookBudget, BookRecurring, BookImport):
        session.execute(delete(model).where(model.user_id == user_id))
    session.execute(
        update(BookCategory)
        .where(BookCategory.user_id == user_id)
        .values(parent_id=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(BookCategory).where(BookCategory.user_id == user_id))
    session.execute(delete(BookAccount).where(BookAccount.user_id == user_id))
    # The old rows' changes can no longer be undone: their ids are gone (and SQLite may
    # give a restored row the same id), so they are closed as if undone.
    session.execute(
        update(BookAudit)
        .where(BookAudit.user_id == user_id, BookAudit.undone_at.is_(None))
        .values(undone_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.expire_all()


def _write(session: Session, user_id: int, parsed: dict[str, Any]) -> dict[str, dict[int, int]]:
    """Insert the checked rows, parents first; returns ``{section: {file id: new id}}``."""
    ids: dict[str, dict[int, int]] = {}
    ids["accounts"] = _insert(
        session, parsed["accounts"], lambda v: BookAccount(user_id=user_id, **_stamped(v))
    )
    cats: dict[int, int] = {}
    for file_id, v in parsed["categories"].items():
        parent = None if v["parent"] is None else cats[v["parent"]]
        fields = {k: value for k, value in v.items() if k != "parent"}
        row = BookCategory(user_id=user_id, parent_id=parent, **fields)
        session.add(row)
        session.flush()
        cats[file_id] = row.id
    ids["categories"] = cats
    ids["imports"] = _insert(
        session, parsed["imports"], lambda v: BookImport(user_id=user_id, **_stamped(v))
    )
    ids["recurring"] = _insert(session, parsed["recurring"], lambda v: _rule_row(user_id, v, ids))
    ids["transactions"] = _insert(
        session, parsed["transactions"], lambda v: _txn_row(user_id, v, ids)
    )
    ids["budgets"] = _insert(
        session,
        parsed["budgets"],
        lambda v: BookBudget(
            user_id=user_id,
            category_id=ids["categories"][v["category"]],
            month=v["month"],
            amount=v["amount"],
            currency=v["currency"],
        ),
    )
    return ids


def _insert(session: Session, rows: dict[int, dict[str, Any]], make: Any) -> dict[int, int]:
    made = {file_id: make(values) for file_id, values in rows.items()}
    for row in made.values():
        session.add(row)
        session.flush()  # one by one: the new ids keep the file's order
    return {file_id: row.id for file_id, row in made.items()}


def _stamped(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` without a missing ``created_at`` (the column's default fills it)."""
    return {k: v for k, v in values.items() if not (k == "created_at" and v is None)}


def _ref(ids: dict[str, dict[int, int]], section: str, file_id: int | None) -> int | None:
    return None if file_id is None else ids[section][file_id]


def _rule_row(user_id: int, v: dict[str, Any], ids: dict[str, dict[int, int]]) -> BookRecurring:
    fields = {k: v[k] for k in v if k not in ("account", "to_account", "category")}
    return BookRecurring(
        user_id=user_id,
        account_id=ids["accounts"][v["account"]],
        to_account_id=_ref(ids, "accounts", v["to_account"]),
        category_id=_ref(ids, "categories", v["category"]),
        **_stamped(fields),
    )


def _txn_row(user_id: int, v: dict[str, Any], ids: dict[str, dict[int, int]]) -> BookTransaction:
    fields = {k: v[k] for k in v if k not in ("import", "recurring", "postings", "updated_at")}
    txn = BookTransaction(
        user_id=user_id,
        import_id=_ref(ids, "imports", v["import"]),
        recurring_id=_ref(ids, "recurring", v["recurring"]),
        **_stamped(fields),
    )
    if v["updated_at"] is not None:
        txn.updated_at = v["updated_at"]
    txn.postings = [
        BookPosting(
            user_id=user_id,
            account_id=_ref(ids, "accounts", p["account"]),
            category_id=_ref(ids, "categories", p["category"]),
            amount=p["amount"],
            currency=p["currency"],
            memo=p["memo"],
        )
        for p in v["postings"]
    ]
    return txn
