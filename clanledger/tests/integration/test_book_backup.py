"""Export (CSV, XLSX) and the JSON backup of a whole book: an exact round trip into another
user's book, and many bad files refused with one line while nothing changes."""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from test_book_reports import script_year

from clanledger.domain.book.kinds import AccountType, TxnKind
from clanledger.extensions import db
from clanledger.models.book import (
    BookAccount,
    BookAudit,
    BookCategory,
    BookImport,
    BookRecurring,
    BookTransaction,
)
from clanledger.services.book import accounts, backup, export, transactions
from clanledger.services.book.transactions import Draft
from clanledger.services.errors import Conflict, ValidationError

SECTIONS = ("accounts", "categories", "imports", "recurring", "transactions", "budgets")
REFS = {
    "parent": "categories",
    "account": "accounts",
    "to_account": "accounts",
    "category": "categories",
    "import": "imports",
    "recurring": "recurring",
    "clan_link_account": "accounts",
}


def without_ids(data: dict) -> dict:
    """The backup with every id replaced by its row's position in its section."""
    data = copy.deepcopy(data)
    data.pop("exported_at")
    index = {s: {row["id"]: i for i, row in enumerate(data[s])} for s in SECTIONS}

    def fix(row: dict) -> None:
        for key, section in REFS.items():
            if row.get(key) is not None:
                row[key] = index[section][row[key]]

    for section in SECTIONS:
        for row in data[section]:
            row["id"] = index[section][row["id"]]
            fix(row)
            for line in row.get("postings", []):
                fix(line)
    fix(data["profile"])
    return data


@pytest.fixture
def book(app, make_user):
    """The scripted year, plus a USD account with cents, an import run and a rule."""
    user = make_user()
    ids = script_year(user.id)
    usd = accounts.create_account(db.session, user.id, "Wise USD", AccountType.BANK, "USD").id
    run = BookImport(
        user_id=user.id,
        source="csv",
        filename="玉山.csv",
        rows_read=3,
        rows_imported=2,
        mapping={"date": 0, "amount": 2},
    )
    db.session.add(run)
    db.session.flush()
    rule = BookRecurring(
        user_id=user.id,
        name="房租",
        kind=TxnKind.EXPENSE,
        amount=15_000,
        account_id=usd,
        category_id=ids["rent"],
        frequency="monthly",
        every=1,
        day=31,
        starts_on=date(2025, 1, 31),
        next_on=date(2025, 2, 28),
    )
    db.session.add(rule)
    db.session.commit()
    txn = transactions.record(
        db.session,
        user.id,
        Draft(
            TxnKind.EXPENSE,
            date(2025, 4, 1),
            usd,
            1_234_56,
            payee="=cmd|' /C calc'!A0",
            category_id=ids["food"],
            note="一,二\n三",
            tags=("旅行", "日本"),
        ),
        source_ref="csv:abc#1",
        import_id=run.id,
    )
    txn.recurring_id = rule.id
    db.session.commit()
    return user


def test_round_trip_into_another_user_is_exact(book, make_user):
    first = backup.backup(db.session, book.id)
    other = make_user()
    accounts.ensure_book(db.session, other.id)  # a fresh book: default categories, cash
    raw = json.dumps(first, ensure_ascii=False).encode()
    assert backup.restore(db.session, other.id, raw) == len(first["transactions"])
    second = backup.backup(db.session, other.id)
    assert without_ids(second) == without_ids(first)
    # the restored book is a working book: balances and figures agree
    assert sorted(accounts.balances(db.session, other.id).values()) == sorted(
        accounts.balances(db.session, book.id).values()
    )
    audit = db.session.scalar(
        select(BookAudit).where(BookAudit.user_id == other.id, BookAudit.action == "restore")
    )
    assert audit is not None and audit.after["transactions"] == len(first["transactions"])


def test_a_book_with_transactions_is_replaced_only_when_confirmed(book, make_user):
    raw = backup.backup_bytes(db.session, book.id)
    other = make_user()
    accounts.ensure_book(db.session, other.id)
    cash = accounts.list_accounts(db.session, other.id)[0]
    food = db.session.scalar(
        select(BookCategory).where(BookCategory.user_id == other.id, BookCategory.code == "food")
    )
    transactions.record(
        db.session,
        other.id,
        Draft(TxnKind.EXPENSE, date(2026, 1, 1), cash.id, 99, category_id=food.id),
    )
    with pytest.raises(Conflict):
        backup.restore(db.session, other.id, raw)
    assert backup.transaction_count(db.session, other.id) == 1
    backup.restore(db.session, other.id, raw, replace=True)
    assert backup.transaction_count(db.session, other.id) == backup.transaction_count(
        db.session, book.id
    )
    names = set(db.session.scalars(select(BookAccount.name).where(BookAccount.user_id == other.id)))
    assert "Wise USD" in names


def _good(book) -> dict:
    return backup.backup(db.session, book.id)


def _first_txn_with(data: dict, n: int) -> dict:
    return next(t for t in data["transactions"] if len(t["postings"]) >= n)


BAD = {
    "not json": lambda d: b"{not json",
    "empty": lambda d: b"",
    "binary": lambda d: b"\xff\xfe\x00garbage",
    "a list": lambda d: b"[1, 2]",
    "NaN": lambda d: b'{"format": "clanledger-book", "version": 1, "x": NaN}',
    "other format": lambda d: {**d, "format": "clanledger-backup"},
    "version 2": lambda d: {**d, "version": 2},
    "version text": lambda d: {**d, "version": "1"},
    "no version": lambda d: {k: v for k, v in d.items() if k != "version"},
    "no profile": lambda d: {**d, "profile": None},
    "bad default currency": lambda d: {**d, "profile": {**d["profile"], "default_currency": "XX"}},
    "accounts not a list": lambda d: {**d, "accounts": {"a": 1}},
    "account id text": lambda d: _edit(d, "accounts", 0, id="1"),
    "account id twice": lambda d: _edit(d, "accounts", 1, id=d["accounts"][0]["id"]),
    "account name twice": lambda d: _edit(d, "accounts", 1, name=d["accounts"][0]["name"]),
    "account empty name": lambda d: _edit(d, "accounts", 0, name="  "),
    "account type": lambda d: _edit(d, "accounts", 0, type="stocks"),
    "account currency": lambda d: _edit(d, "accounts", 0, currency="BTC"),
    "account digits": lambda d: _edit(d, "accounts", 0, minor_digits=9),
    "account archived text": lambda d: _edit(d, "accounts", 0, archived="no"),
    "category parent unknown": lambda d: _edit(d, "categories", -1, parent=987654),
    "category kind": lambda d: _edit(d, "categories", 0, kind="loss"),
    "category name too long": lambda d: _edit(d, "categories", 0, name="x" * 65),
    "posting account unknown": lambda d: _posting(d, account=987654),
    "posting category unknown": lambda d: _posting(d, category=987654, account=None),
    "posting both sides": lambda d: _posting(d, category=d["categories"][0]["id"]),
    "amount float": lambda d: _posting(d, amount=120.0),
    "amount text": lambda d: _posting(d, amount="120"),
    "amount decimal": lambda d: _posting(d, amount=1.5),
    "amount bool": lambda d: _posting(d, amount=True),
    "amount huge": lambda d: _posting(d, amount=10**30),
    "unbalanced": lambda d: _posting(d, amount=_first_txn_with(d, 2)["postings"][0]["amount"] + 1),
    "posting currency": lambda d: _posting(d, currency="USD"),
    "no postings": lambda d: _edit(d, "transactions", 0, postings=[]),
    "txn date": lambda d: _edit(d, "transactions", 0, occurred_on="2025-02-30"),
    "txn date far": lambda d: _edit(d, "transactions", 0, occurred_on="1900-01-01"),
    "txn kind": lambda d: _edit(d, "transactions", 0, kind="gift"),
    "txn import unknown": lambda d: _edit(d, "transactions", 0, **{"import": 987654}),
    "txn deleted naive": lambda d: _edit(d, "transactions", 0, deleted_at="2025-01-01T00:00:00"),
    "txn source twice": lambda d: _edit(d, "transactions", 0, source_ref="csv:abc#1"),
    "txn payee NUL": lambda d: _edit(d, "transactions", 0, payee="a\x00b"),
    "txn note lone surrogate": lambda d: _edit(d, "transactions", 0, note="a\ud800b"),
    "import mapping NUL": lambda d: _edit(d, "imports", 0, mapping={"a": "\x00"}),
    "import mapping surrogate": lambda d: _edit(d, "imports", 0, mapping={"\udfff": 1}),
    "recurring account unknown": lambda d: _edit(d, "recurring", 0, account=987654),
    "recurring frequency": lambda d: _edit(d, "recurring", 0, frequency="hourly"),
    "recurring amount 0": lambda d: _edit(d, "recurring", 0, amount=0),
    "budget category unknown": lambda d: _edit(d, "budgets", 0, category=987654),
    "budget month mid": lambda d: _edit(d, "budgets", 0, month="2025-02-15"),
    "budget negative": lambda d: _edit(d, "budgets", 0, amount=-1),
    "budget twice": lambda d: _edit(
        d, "budgets", 1, category=d["budgets"][0]["category"], month=d["budgets"][0]["month"]
    ),
    "import mapping": lambda d: _edit(d, "imports", 0, mapping=[1, 2]),
    "clan link unknown": lambda d: {**d, "profile": {**d["profile"], "clan_link_account": 987654}},
}


def _edit(data: dict, section: str, index: int, **fields) -> dict:
    data = copy.deepcopy(data)
    data[section][index].update(fields)
    return data


def _posting(data: dict, **fields) -> dict:
    data = copy.deepcopy(data)
    _first_txn_with(data, 2)["postings"][0].update(fields)
    return data


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_backups_are_refused_and_nothing_changes(book, make_user, case):
    data = BAD[case](_good(book))
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    other = make_user()
    accounts.ensure_book(db.session, other.id)
    before = backup.backup(db.session, other.id)
    with pytest.raises(ValidationError) as refused:
        backup.restore(db.session, other.id, raw, replace=True)
    assert "\n" not in refused.value.text and refused.value.text
    db.session.rollback()
    assert without_ids(backup.backup(db.session, other.id)) == without_ids(before)


def test_a_refusal_names_the_problem(book, make_user):
    other = make_user()
    data = _posting(_good(book), account=987654)
    with pytest.raises(ValidationError) as refused:
        backup.restore(db.session, other.id, json.dumps(data))
    assert "987654" in refused.value.text and "postings #1" in refused.value.text
    data = _posting(_good(book), amount=120.5)
    with pytest.raises(ValidationError) as refused:
        backup.restore(db.session, other.id, json.dumps(data))
    assert "whole number" in refused.value.text


def test_csv_has_one_row_per_posting_with_exact_amounts(book):
    body = export.transactions_csv(db.session, book.id)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header, rows = rows[0], rows[1:]
    assert header[:6] == ["Transaction", "Date", "Kind", "Account", "Category", "Amount"]
    live = db.session.scalars(
        select(BookTransaction).where(
            BookTransaction.user_id == book.id, BookTransaction.deleted_at.is_(None)
        )
    ).all()
    assert len(rows) == sum(len(t.postings) for t in live)
    usd = [r for r in rows if r[6] == "USD"]
    assert sorted(r[5] for r in usd) == ["-1234.56", "1234.56"]
    assert all(r[7].startswith("'=") for r in usd)  # a payee is never a formula
    assert {r[4] for r in rows if r[4]} >= {"餐飲/晚餐", "居住/房租"}
    assert "一,二\n三" in {r[8] for r in rows}
    # every transaction balances per currency in the file too
    sums: dict[tuple[str, str], Decimal] = {}
    for r in rows:
        sums[(r[0], r[6])] = sums.get((r[0], r[6]), Decimal(0)) + Decimal(r[5])
    assert set(sums.values()) == {Decimal(0)}


def test_xlsx_has_four_sheets_and_exact_numbers(book):
    workbook = load_workbook(io.BytesIO(export.workbook(db.session, book.id)))
    assert workbook.sheetnames == ["Transactions", "Accounts", "Categories", "Budgets"]
    sheet = workbook["Transactions"]
    usd = [row for row in sheet.iter_rows(min_row=2) if row[6].value == "USD"]
    assert sorted(Decimal(str(r[5].value)) for r in usd) == [
        Decimal("-1234.56"),
        Decimal("1234.56"),
    ]
    assert {r[5].number_format for r in usd} == {"#,##0.00"}
    twd = [row for row in sheet.iter_rows(min_row=2) if row[6].value == "TWD"]
    assert {r[5].number_format for r in twd} == {"#,##0"}
    assert all(isinstance(r[5].value, int) for r in twd)
    assert workbook["Budgets"].max_row == 5  # header + 4 budgets


def test_downloads_and_restore_through_the_pages(book, make_user, login):
    client = login(book)
    for url, kind in (
        ("/book/export/csv", "text/csv"),
        ("/book/export/xlsx", "spreadsheetml"),
        ("/book/export/backup", "application/json"),
    ):
        response = client.get(url)
        assert response.status_code == 200 and kind in response.content_type
        assert "attachment" in response.headers["Content-Disposition"]
    raw = client.get("/book/export/backup").data
    other = make_user(locale="en")
    client = login(other)
    response = client.post(
        "/book/export/restore",
        data={"backup": (io.BytesIO(raw), "backup.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert backup.transaction_count(db.session, other.id) == backup.transaction_count(
        db.session, book.id
    )
    again = client.post(
        "/book/export/restore",
        data={"backup": (io.BytesIO(raw), "backup.json")},
        content_type="multipart/form-data",
    )
    assert again.status_code == 409 and "confirm" in again.get_data(as_text=True)
    confirmed = client.post(
        "/book/export/restore",
        data={"backup": (io.BytesIO(raw), "backup.json"), "confirm": "yes"},
        content_type="multipart/form-data",
    )
    assert confirmed.status_code == 302


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{", "not valid JSON"),
        (b'{"format": "x"}', "not a book backup"),
        (b'{"format": "clanledger-book", "version": 9}', "version 9"),
        (b"", "Choose a backup file"),
    ],
)
def test_a_bad_upload_is_a_400_with_the_reason(app, make_user, login, body, words):
    client = login(make_user(locale="en"))
    response = client.post(
        "/book/export/restore",
        data={"backup": (io.BytesIO(body), "x.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)


def test_no_upload_at_all_is_a_400(app, make_user, login):
    response = login(make_user()).post("/book/export/restore", data={})
    assert response.status_code == 400
    count = db.session.scalar(select(func.count()).select_from(BookTransaction))
    assert count == 0


def test_changes_before_a_restore_can_no_longer_be_undone(book, make_user):
    raw = backup.backup_bytes(db.session, book.id)
    old = db.session.scalar(
        select(BookAudit).where(BookAudit.user_id == book.id, BookAudit.entity == "transaction")
    )
    backup.restore(db.session, book.id, raw, replace=True)
    with pytest.raises(Conflict):
        transactions.undo(db.session, book.id, old.id)
    # the restored book is the same book again
    assert without_ids(backup.backup(db.session, book.id)) == without_ids(json.loads(raw))
