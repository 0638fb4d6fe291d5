"""Every section of a book backup checked and turned into plain values (dates as ``date``,
enums as their kinds), keyed by the ids of the file; see
:mod:`clanledger.domain.book.backup_format`."""

from __future__ import annotations

import json
from typing import Any

from clanledger.domain.book.backup_format import (
    BAD_FIELD,
    MAX_POSTING,
    WRONG_CURRENCY,
    Field,
    balanced,
    fail,
    load,
    rows,
    storable,
    unique,
)
from clanledger.domain.book.kinds import AccountType, CategoryKind, Frequency, TxnKind
from clanledger.domain.book.money import MAX_AMOUNT, MAX_MINOR_DIGITS

Rows = dict[int, dict[str, Any]]
BIG = 2**31 - 1


def parse_backup(raw: bytes | str) -> dict[str, Any]:
    """The checked backup: ``profile`` and, per section, ``{file id: values}`` in file
    order (accounts, categories, imports, recurring, transactions, budgets).

    Raises:
        BookInputError: the first problem found, in one line.
    """
    data = load(raw)
    accounts = _accounts(data)
    categories = _categories(data)
    imports = _imports(data)
    recurring = _recurring(data, accounts, categories)
    transactions = _transactions(data, accounts, categories, imports, recurring)
    budgets = _budgets(data, categories)
    return {
        "profile": _profile(data, accounts),
        "accounts": accounts,
        "categories": categories,
        "imports": imports,
        "recurring": recurring,
        "transactions": transactions,
        "budgets": budgets,
    }


def _profile(data: dict[str, Any], accounts: Rows) -> dict[str, Any]:
    row = Field(data.get("profile"), "profile")
    return {
        "default_currency": row.currency("default_currency"),
        "clan_link_account": row.ref("clan_link_account", accounts),
    }


def _accounts(data: dict[str, Any]) -> Rows:
    out: Rows = {}
    names: set[str] = set()
    for row, row_id in rows(data, "accounts"):
        name = row.str("name", 64, optional=False, empty=False)
        unique(row.where, "name", name, names)
        out[row_id] = {
            "name": name,
            "type": row.choice("type", AccountType),
            "currency": row.currency(),
            "minor_digits": row.int("minor_digits", 0, MAX_MINOR_DIGITS),
            "closing_day": row.int("closing_day", 1, 31, optional=True),
            "archived": row.bool("archived"),
            "read_only": row.bool("read_only"),
            "sort": row.int("sort", -BIG, BIG, optional=True) or 0,
            "created_at": row.moment("created_at"),
        }
    return out


def _categories(data: dict[str, Any]) -> Rows:
    out: Rows = {}
    names: set[tuple[int | None, str]] = set()
    for row, row_id in rows(data, "categories"):
        parent = row.ref("parent", out)  # a parent comes before its children
        if parent is not None and out[parent]["parent"] is not None:
            raise row.bad("parent")
        name = row.str("name", 64, optional=False, empty=False)
        unique(row.where, "name", name, {n for p, n in names if p == parent})
        names.add((parent, name))
        out[row_id] = {
            "parent": parent,
            "kind": row.choice("kind", CategoryKind),
            "name": name,
            "code": row.opt_str("code", 32),
            "archived": row.bool("archived"),
            "sort": row.int("sort", -BIG, BIG, optional=True) or 0,
        }
    return out


def _imports(data: dict[str, Any]) -> Rows:
    out: Rows = {}
    for row, row_id in rows(data, "imports"):
        mapping = row.row.get("mapping")
        if mapping is not None and not (isinstance(mapping, dict) and _storable_json(mapping)):
            raise row.bad("mapping")
        out[row_id] = {
            "source": row.str("source", 16, optional=False, empty=False),
            "filename": row.str("filename", 255),
            "rows_read": row.int("rows_read", 0, BIG),
            "rows_imported": row.int("rows_imported", 0, BIG),
            "rows_duplicate": row.int("rows_duplicate", 0, BIG),
            "mapping": mapping,
            "undone_at": row.moment("undone_at"),
            "created_at": row.moment("created_at"),
        }
    return out


def _storable_json(value: dict[str, Any]) -> bool:
    text = json.dumps(value, ensure_ascii=False)
    return len(text) <= 100_000 and "\\u0000" not in text and storable(text)


def _recurring(data: dict[str, Any], accounts: Rows, categories: Rows) -> Rows:
    out: Rows = {}
    for row, row_id in rows(data, "recurring"):
        out[row_id] = {
            "name": row.str("name", 64, optional=False, empty=False),
            "kind": row.choice("kind", TxnKind),
            "amount": row.amount("amount", 1, MAX_AMOUNT),
            "account": row.ref("account", accounts, optional=False),
            "to_account": row.ref("to_account", accounts),
            "category": row.ref("category", categories),
            "payee": row.str("payee", 128),
            "note": row.str("note", 2000),
            "frequency": row.choice("frequency", Frequency),
            "every": row.int("every", 1, 1000),
            "day": row.int("day", 1, 31, optional=True),
            "starts_on": row.date("starts_on"),
            "ends_on": row.date("ends_on", optional=True),
            "next_on": row.date("next_on", optional=True),
            "active": row.bool("active"),
            "created_at": row.moment("created_at"),
        }
    return out


def _transactions(
    data: dict[str, Any], accounts: Rows, categories: Rows, imports: Rows, recurring: Rows
) -> Rows:
    out: Rows = {}
    refs: set[str] = set()
    for row, row_id in rows(data, "transactions"):
        source_ref = row.opt_str("source_ref", 128)
        if source_ref is not None:
            unique(row.where, "source_ref", source_ref, refs)
        out[row_id] = {
            "kind": row.choice("kind", TxnKind),
            "occurred_on": row.date("occurred_on"),
            "payee": row.str("payee", 128),
            "note": row.str("note", 2000),
            "tags": row.str("tags", 255),
            "source_ref": source_ref,
            "import": row.ref("import", imports),
            "recurring": row.ref("recurring", recurring),
            "deleted_at": row.moment("deleted_at"),
            "created_at": row.moment("created_at"),
            "updated_at": row.moment("updated_at"),
            "postings": _postings(row, accounts, categories),
        }
    return out


def _postings(txn: Field, accounts: Rows, categories: Rows) -> list[dict[str, Any]]:
    lines = txn.row.get("postings")
    if not isinstance(lines, list) or not lines:
        raise txn.bad("postings")
    out = []
    for i, line in enumerate(lines):
        row = Field(line, f"{txn.where} postings #{i + 1}")
        account = row.ref("account", accounts)
        category = row.ref("category", categories)
        if account is not None and category is not None:
            raise row.bad("category")
        currency = row.currency()
        if account is not None and accounts[account]["currency"] != currency:
            raise fail(
                WRONG_CURRENCY,
                where=row.where,
                currency=currency,
                expected=accounts[account]["currency"],
            )
        out.append(
            {
                "account": account,
                "category": category,
                "amount": row.amount("amount", -MAX_POSTING, MAX_POSTING),
                "currency": currency,
                "memo": row.str("memo", 200),
            }
        )
    balanced(txn.where, out)
    return out


def _budgets(data: dict[str, Any], categories: Rows) -> Rows:
    out: Rows = {}
    seen: set[tuple[int, Any]] = set()
    for row, row_id in rows(data, "budgets"):
        category = row.ref("category", categories, optional=False)
        month = row.date("month", optional=True)
        if month is not None and month.day != 1:
            raise row.bad("month")
        if (category, month) in seen:
            raise fail(BAD_FIELD, where=row.where, field="month")
        seen.add((category, month))
        out[row_id] = {
            "category": category,
            "month": month,
            "amount": row.amount("amount", 0, MAX_AMOUNT),
            "currency": row.currency(),
        }
    return out
