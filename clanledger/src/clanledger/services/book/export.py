"""The book as a spreadsheet: CSV (one row per posting) and XLSX (Transactions, Accounts,
Categories and Budgets sheets). Amounts are exact: text with the account's decimals in the
CSV, ``Decimal`` numbers with a matching number format in the XLSX. Deleted transactions
are left out (the JSON backup keeps them)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from clanledger.domain.book.kinds import ACCOUNT_TYPE_LABELS, TXN_KIND_LABELS
from clanledger.domain.book.money import CURRENCIES, format_amount
from clanledger.domain.messages import N_
from clanledger.models.book import BookAccount, BookBudget, BookCategory, BookTransaction
from clanledger.services.book.accounts import balances

Translate = Callable[[str], str]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EQUITY = N_("(equity)")
EVERY_MONTH = N_("Every month")


@dataclass
class Sheet:
    title: str
    header: list[str]
    rows: list[list[Any]]
    money: dict[int, list[int]]  # column -> the decimals of each row's amount


def _same(text: str) -> str:
    return text


def _digits(session: Session, user_id: int) -> dict[str, int]:
    """The decimals of each currency in this book (its first account's), else the default."""
    out = {code: c.minor_digits for code, c in CURRENCIES.items()}
    accounts = session.scalars(
        select(BookAccount).where(BookAccount.user_id == user_id).order_by(BookAccount.id.desc())
    )
    for account in accounts:
        out[account.currency] = account.minor_digits
    return out


def _paths(session: Session, user_id: int) -> dict[int, str]:
    cats = list(session.scalars(select(BookCategory).where(BookCategory.user_id == user_id)))
    by_id = {c.id: c for c in cats}
    return {
        c.id: f"{by_id[c.parent_id].name}/{c.name}" if c.parent_id in by_id else c.name
        for c in cats
    }


def transactions_sheet(session: Session, user_id: int, _: Translate = _same) -> Sheet:
    """One row per posting of every transaction that is not deleted, oldest first."""
    digits = _digits(session, user_id)
    paths = _paths(session, user_id)
    accounts = {
        a.id: a for a in session.scalars(select(BookAccount).where(BookAccount.user_id == user_id))
    }
    txns = session.scalars(
        select(BookTransaction)
        .where(BookTransaction.user_id == user_id, BookTransaction.deleted_at.is_(None))
        .options(selectinload(BookTransaction.postings))
        .order_by(BookTransaction.occurred_on, BookTransaction.id)
    )
    rows, decimals = [], []
    for t in txns:
        for p in t.postings:
            account = accounts.get(p.account_id) if p.account_id else None
            places = account.minor_digits if account else digits.get(p.currency, 0)
            where = account.name if account else ("" if p.category_id else _(EQUITY))
            rows.append(
                [
                    t.id,
                    t.occurred_on,
                    _(TXN_KIND_LABELS[t.kind]),
                    where,
                    paths.get(p.category_id, "") if p.category_id else "",
                    (int(p.amount), places),
                    p.currency,
                    t.payee,
                    t.note,
                    t.tags,
                ]
            )
            decimals.append(places)
    header = [
        N_("Transaction"),
        N_("Date"),
        N_("Kind"),
        N_("Account"),
        N_("Category"),
        N_("Amount"),
        N_("Currency"),
        N_("Payee"),
        N_("Note"),
        N_("Tags"),
    ]
    return Sheet(_(N_("Transactions")), [_(h) for h in header], rows, {5: decimals})


def accounts_sheet(session: Session, user_id: int, _: Translate = _same) -> Sheet:
    held = balances(session, user_id)
    accounts = list(
        session.scalars(
            select(BookAccount).where(BookAccount.user_id == user_id).order_by(BookAccount.id)
        )
    )
    rows = [
        [
            a.name,
            _(ACCOUNT_TYPE_LABELS[a.type]),
            a.currency,
            a.minor_digits,
            (held.get(a.id, 0), a.minor_digits),
            _(N_("Yes")) if a.archived else "",
        ]
        for a in accounts
    ]
    header = [N_("Name"), N_("Type"), N_("Currency"), N_("Decimals"), N_("Balance"), N_("Archived")]
    return Sheet(
        _(N_("Accounts")), [_(h) for h in header], rows, {4: [a.minor_digits for a in accounts]}
    )


def categories_sheet(session: Session, user_id: int, _: Translate = _same) -> Sheet:
    paths = _paths(session, user_id)
    cats = session.scalars(
        select(BookCategory).where(BookCategory.user_id == user_id).order_by(BookCategory.id)
    )
    rows = [
        [paths[c.id], _(N_("Expense") if c.kind.value == "expense" else N_("Income")), c.code or ""]
        for c in cats
    ]
    rows.sort(key=lambda r: r[0])
    header = [N_("Category"), N_("Kind"), N_("Code")]
    return Sheet(_(N_("Categories")), [_(h) for h in header], rows, {})


def budgets_sheet(session: Session, user_id: int, _: Translate = _same) -> Sheet:
    digits = _digits(session, user_id)
    paths = _paths(session, user_id)
    budgets = list(
        session.scalars(
            select(BookBudget).where(BookBudget.user_id == user_id).order_by(BookBudget.id)
        )
    )
    rows = [
        [
            paths.get(b.category_id, ""),
            b.month.strftime("%Y-%m") if b.month else _(EVERY_MONTH),
            (int(b.amount), digits.get(b.currency, 0)),
            b.currency,
        ]
        for b in budgets
    ]
    header = [N_("Category"), N_("Month"), N_("Amount"), N_("Currency")]
    return Sheet(
        _(N_("Budgets")),
        [_(h) for h in header],
        rows,
        {2: [digits.get(b.currency, 0) for b in budgets]},
    )


def to_csv(sheet: Sheet) -> bytes:
    """UTF-8 with a byte-order mark (spreadsheet apps then read Chinese right); amounts as
    exact text with their decimals, no grouping."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(sheet.header)
    for row in sheet.rows:
        writer.writerow([_text(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _text(value: Any) -> Any:
    if isinstance(value, tuple):
        return format_amount(value[0], value[1], grouping=False)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return _inert(value)


def _inert(value: Any) -> Any:
    """Text a spreadsheet will not run as a formula (payees and notes are typed)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def number_format(places: int) -> str:
    return "#,##0" + ("." + "0" * places if places else "")


def to_xlsx(sheets: list[Sheet]) -> bytes:
    """One sheet each; amounts as exact ``Decimal`` numbers shown with their decimals."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in sheets:
        ws = workbook.create_sheet(sheet.title[:31])
        ws.append(sheet.header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            ws.append([_cell(value) for value in row])
        for column, places in sheet.money.items():
            for i, digits in enumerate(places):
                ws.cell(row=i + 2, column=column + 1).number_format = number_format(digits)
        ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, tuple):
        return Decimal(value[0]).scaleb(-value[1])
    return _inert(value)


def workbook(session: Session, user_id: int, _: Translate = _same) -> bytes:
    """The XLSX file of the whole book."""
    return to_xlsx(
        [
            transactions_sheet(session, user_id, _),
            accounts_sheet(session, user_id, _),
            categories_sheet(session, user_id, _),
            budgets_sheet(session, user_id, _),
        ]
    )


def transactions_csv(session: Session, user_id: int, _: Translate = _same) -> bytes:
    return to_csv(transactions_sheet(session, user_id, _))
