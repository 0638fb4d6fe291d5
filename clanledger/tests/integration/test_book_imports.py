"""Book imports through the web: a bank CSV (UTF-8, BOM, Big5, 民國 dates, withdrawal and
deposit columns, quoted commas) and the MoF e-invoice carrier export, with duplicates, a
re-import, refused lines (nothing imported, the line named), undo, and many bad uploads."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from clanledger.domain.book import import_text
from clanledger.domain.book.kinds import AccountType, TxnKind
from clanledger.extensions import db
from clanledger.models.book import BookAudit, BookImport, BookPosting, BookTransaction
from clanledger.services.book import accounts, categories, transactions
from clanledger.services.book.transactions import Draft
from clanledger.web.book import imports as web_imports

BANK_HEADER = "交易日期,摘要,支出,存入,餘額,備註\n"
BANK_LINES = (
    '115/12/01,"全家便利商店, 信義店",120,,9880,早餐\n'
    "115/12/02,薪資轉入,0,50000,59880,\n"
    "115/12/03,台北捷運,35,,59845,\n"
)


@pytest.fixture
def me(make_user, login):
    user = make_user(locale="zh_Hant")
    login(user)
    accounts.ensure_book(db.session, user.id)
    return user


def _cash(user) -> int:
    return accounts.list_accounts(db.session, user.id)[0].id


def _code(user, code: str) -> int:
    return categories.by_code(db.session, user.id, code).id


def upload(client, account_id, data: bytes, kind="csv", category="", name="bank.csv"):
    return client.post(
        "/book/imports",
        data={
            "kind": kind,
            "account": str(account_id),
            "category": str(category),
            "upload": (io.BytesIO(data), name),
        },
        content_type="multipart/form-data",
    )


def staged(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(re.search(r"/book/imports/(\d+)$", response.headers["Location"]).group(1))


def mapping(user, **given):
    data = {
        "date": "0",
        "date_order": "ymd",
        "amount": "",
        "sign": "neg",
        "withdrawal": "2",
        "deposit": "3",
        "payee": "1",
        "note": "5",
        "category_column": "",
        "category": str(_code(user, "other_expense")),
        "income_category": str(_code(user, "salary")),
    }
    data.update({k: str(v) for k, v in given.items()})
    return data


def live(user, account_id=None):
    query = select(BookTransaction).where(
        BookTransaction.user_id == user.id, BookTransaction.deleted_at.is_(None)
    )
    rows = list(db.session.scalars(query.order_by(BookTransaction.occurred_on)))
    if account_id is None:
        return rows
    return [t for t in rows if any(p.account_id == account_id for p in t.postings)]


def names_line(page: str, number: int) -> bool:
    return f"Line {number}:" in page or f"第 {number} 行：" in page


def text(response) -> str:
    return response.get_data(as_text=True)


def test_big5_bank_csv_with_roc_dates_and_two_amount_columns(client, me):
    cash = _cash(me)
    import_id = staged(upload(client, cash, (BANK_HEADER + BANK_LINES).encode("cp950")))
    page = client.get(f"/book/imports/{import_id}")
    assert page.status_code == 200
    assert "全家便利商店, 信義店" in text(page)
    done = client.post(f"/book/imports/{import_id}", data={**mapping(me), "action": "confirm"})
    assert done.status_code == 302
    rows = live(me)
    assert [(t.occurred_on, t.payee, t.note) for t in rows] == [
        (date(2026, 12, 1), "全家便利商店, 信義店", "早餐"),
        (date(2026, 12, 2), "薪資轉入", ""),
        (date(2026, 12, 3), "台北捷運", ""),
    ]
    assert [t.kind for t in rows] == [TxnKind.EXPENSE, TxnKind.INCOME, TxnKind.EXPENSE]
    assert accounts.balances(db.session, me.id)[cash] == -120 + 50000 - 35
    salary = next(p for p in rows[1].postings if p.category_id is not None)
    assert (salary.category_id, salary.amount) == (_code(me, "salary"), -50000)
    row = db.session.get(BookImport, import_id)
    assert (row.status, row.rows_imported, row.rows_duplicate, row.content) == ("done", 3, 0, None)
    assert {t.import_id for t in rows} == {import_id}


def test_a_reimport_of_the_same_file_imports_nothing(client, me):
    cash = _cash(me)
    data = ("\ufeff" + BANK_HEADER + BANK_LINES).encode("utf-8")
    first = staged(upload(client, cash, data))
    client.post(f"/book/imports/{first}", data={**mapping(me), "action": "confirm"})
    again = staged(upload(client, cash, data))
    preview = client.post(f"/book/imports/{again}", data={**mapping(me), "action": "preview"})
    assert preview.status_code == 200
    assert "3 duplicates" in text(preview) or "3 筆重複" in text(preview)
    done = client.post(f"/book/imports/{again}", data={**mapping(me), "action": "confirm"})
    assert done.status_code == 302
    assert len(live(me)) == 3
    row = db.session.get(BookImport, again)
    assert (row.rows_imported, row.rows_duplicate) == (0, 3)


def test_two_identical_purchases_both_import_once(client, me):
    cash = _cash(me)
    transactions.record(
        db.session,
        me.id,
        Draft(
            TxnKind.EXPENSE,
            date(2026, 12, 5),
            cash,
            65,
            _code(me, "drinks"),
            payee="50嵐",
        ),
    )
    body = "日期,說明,金額\n2026-12-05,50嵐,-65\n2026-12-05,５０嵐,-65\n2026-12-05,50嵐,-65\n"
    import_id = staged(upload(client, cash, body.encode()))
    form = mapping(me, withdrawal="", deposit="", amount="2", note="")
    assert (
        client.post(f"/book/imports/{import_id}", data={**form, "action": "confirm"}).status_code
        == 302
    )
    assert len(live(me)) == 3  # the hand entry matched the first line
    again = staged(upload(client, cash, body.encode()))
    client.post(f"/book/imports/{again}", data={**form, "action": "confirm"})
    assert len(live(me)) == 3


def test_one_bad_line_imports_nothing_and_names_the_line(client, me):
    cash = _cash(me)
    body = BANK_HEADER + BANK_LINES + "115/13/40,壞日期,10,,0,\n115/12/04,好的,abc,,0,\n"
    import_id = staged(upload(client, cash, body.encode()))
    response = client.post(f"/book/imports/{import_id}", data={**mapping(me), "action": "confirm"})
    assert response.status_code == 409
    page = text(response)
    assert names_line(page, 5) and names_line(page, 6)
    assert live(me) == []
    assert db.session.get(BookImport, import_id).status == "pending"


def test_signed_amounts_semicolons_and_a_category_column(client, me):
    cash = _cash(me)
    body = (
        "Date;Description;Amount;Category\n"
        "2026/12/1;Coffee;85;餐飲/飲料\n"
        "2026/12/2;Lunch;120;餐飲 › 午餐\n"
        "2026/12/3;Refund;-40;\n"
    )
    import_id = staged(upload(client, cash, body.encode("utf-8")))
    form = mapping(
        me, withdrawal="", deposit="", amount="2", note="", category_column="3", sign="pos"
    )
    form["income_category"] = str(_code(me, "other_income"))
    assert (
        client.post(f"/book/imports/{import_id}", data={**form, "action": "confirm"}).status_code
        == 302
    )
    rows = live(me)
    cats = [next(p.category_id for p in t.postings if p.category_id) for t in rows]
    assert cats == [_code(me, "drinks"), _code(me, "lunch"), _code(me, "other_income")]
    assert accounts.balances(db.session, me.id)[cash] == -85 - 120 + 40


def test_an_unknown_category_name_is_a_refused_line(client, me):
    cash = _cash(me)
    body = "日期,說明,金額,分類\n2026/12/1,x,-5,不存在\n"
    import_id = staged(upload(client, cash, body.encode()))
    form = mapping(me, withdrawal="", deposit="", amount="2", note="", category_column="3")
    response = client.post(f"/book/imports/{import_id}", data={**form, "action": "confirm"})
    assert response.status_code == 409
    assert "不存在" in text(response)
    assert live(me) == []


def test_the_mapping_is_remembered_for_the_account(client, me):
    cash = _cash(me)
    body = "Posted,Text,Value,Memo\n2026/12/1,Shop,-5,m\n"
    first = staged(upload(client, cash, body.encode()))
    form = mapping(me, date="0", payee="1", amount="2", note="3", withdrawal="", deposit="")
    form["date_order"] = "ymd"
    client.post(f"/book/imports/{first}", data={**form, "action": "confirm"})
    second = staged(upload(client, cash, b"Memo,Posted,Text,Value\nn,2026/12/2,Shop 2,-7\n"))
    page = text(client.get(f"/book/imports/{second}"))
    assert re.search(r'<select[^>]*id="amount"[^>]*>.*?<option selected value="3"', page, re.S)
    assert "Shop 2" in page


EINVOICE = (
    "表頭=M|載具名稱|載具號碼|發票日期|商店統編|商店店名|發票號碼|總金額|發票狀態|\n"
    "明細=D|發票號碼|小計|品項名稱|\n"
    "M|手機條碼|/ABC1234|20261201|12345678|全家便利商店股份有限公司|AB12345678|120|開立|\n"
    "D|AB12345678|45|鮮乳|\n"
    "D|AB12345678|80|御飯糰|\n"
    "D|AB12345678|-5|折價|\n"
    "M|手機條碼|/ABC1234|20261202|22345678|全聯實業股份有限公司|CD12345678|99|作廢|\n"
    "D|CD12345678|99|衛生紙|\n"
    "M|手機條碼|/ABC1234|20261203|32345678|星巴克|EF12345678|150|開立\n"
)


def test_einvoice_export_one_expense_per_invoice_with_items(client, me):
    cash = _cash(me)
    daily = _code(me, "daily")
    import_id = staged(upload(client, cash, EINVOICE.encode(), "einvoice", daily, "inv.csv"))
    page = client.get(f"/book/imports/{import_id}")
    assert page.status_code == 200 and "全家便利商店" in text(page)
    data = {"category": str(daily), "learn": "y", "short_names": "y", "action": "confirm"}
    assert client.post(f"/book/imports/{import_id}", data=data).status_code == 302
    rows = live(me)
    assert [(t.payee, t.note, t.occurred_on) for t in rows] == [
        ("全家便利商店", "AB12345678", date(2026, 12, 1)),
        ("星巴克", "EF12345678", date(2026, 12, 3)),
    ]
    lines = [(p.amount, p.memo) for p in rows[0].postings if p.category_id]
    assert lines == [(45, "鮮乳"), (80, "御飯糰"), (-5, "折價")]
    assert accounts.balances(db.session, me.id)[cash] == -270
    assert rows[0].source_ref == "einvoice:AB12345678"
    again = staged(upload(client, cash, EINVOICE.encode("cp950"), "einvoice", daily))
    client.post(f"/book/imports/{again}", data=data)
    assert len(live(me)) == 2
    assert db.session.get(BookImport, again).rows_duplicate == 2


def test_einvoice_learns_the_stores_last_category(client, me):
    cash, coffee = _cash(me), _code(me, "drinks")
    transactions.record(
        db.session,
        me.id,
        Draft(TxnKind.EXPENSE, date(2026, 11, 1), cash, 100, coffee, payee="星巴克"),
    )
    import_id = staged(upload(client, cash, EINVOICE.encode(), "einvoice", _code(me, "daily")))
    data = {"category": str(_code(me, "daily")), "learn": "y", "short_names": "y"}
    client.post(f"/book/imports/{import_id}", data={**data, "action": "confirm"})
    starbucks = next(t for t in live(me) if t.note == "EF12345678")
    assert [p.category_id for p in starbucks.postings if p.category_id] == [coffee]


@pytest.mark.parametrize(
    ("extra", "line", "words"),
    [
        ("D|ZZ12345678|10|孤兒|\n", 10, "ZZ12345678"),
        ("M|手機條碼|/A|20261399|1|店|GH12345678|10|開立|\n", 10, "20261399"),
        ("M|手機條碼|/A|20261205|1|店|GH12345678|十|開立|\n", 10, "十"),
        ("M|手機條碼|/A|20261205|1|店|GH12345678|10|開立|\nD|GH12345678|7|a|\n", 10, "3"),
        ("M|手機條碼|/A|20261205|1|店|BAD|10|開立|\n", 10, "BAD"),
        ("X|whatever|\n", 10, "M"),
    ],
)
def test_einvoice_refused_lines_are_named(client, me, extra, line, words):
    cash = _cash(me)
    body = EINVOICE + extra
    import_id = staged(upload(client, cash, body.encode(), "einvoice", _code(me, "daily")))
    data = {"category": str(_code(me, "daily")), "learn": "y", "action": "confirm"}
    response = client.post(f"/book/imports/{import_id}", data=data)
    assert response.status_code == 409
    page = text(response)
    assert names_line(page, line) and words in page
    assert live(me) == []


def test_undo_removes_the_import_and_lets_it_come_back(client, me):
    cash = _cash(me)
    data = (BANK_HEADER + BANK_LINES).encode()
    import_id = staged(upload(client, cash, data))
    client.post(f"/book/imports/{import_id}", data={**mapping(me), "action": "confirm"})
    assert client.post(f"/book/imports/{import_id}/undo").status_code == 302
    assert live(me) == []
    deletes = db.session.scalar(
        select(func.count()).where(BookAudit.user_id == me.id, BookAudit.action == "delete")
    )
    assert deletes == 3
    assert db.session.get(BookImport, import_id).status == "undone"
    again = client.post(f"/book/imports/{import_id}/undo")
    assert again.status_code == 302  # told it cannot, nothing changes
    second = staged(upload(client, cash, data))
    client.post(f"/book/imports/{second}", data={**mapping(me), "action": "confirm"})
    assert len(live(me)) == 3


def test_a_second_confirm_imports_nothing_more(client, me):
    cash = _cash(me)
    import_id = staged(upload(client, cash, (BANK_HEADER + BANK_LINES).encode()))
    form = {**mapping(me), "action": "confirm"}
    client.post(f"/book/imports/{import_id}", data=form)
    second = client.post(f"/book/imports/{import_id}", data=form)
    assert second.status_code == 200
    assert len(live(me)) == 3


def test_discard_forgets_the_upload(client, me):
    import_id = staged(upload(client, _cash(me), (BANK_HEADER + BANK_LINES).encode()))
    assert client.post(f"/book/imports/{import_id}/discard").status_code == 302
    assert db.session.get(BookImport, import_id) is None


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


@pytest.mark.parametrize(
    ("data", "kind", "name"),
    [
        (b"", "csv", "empty.csv"),
        (b"   \n\n", "csv", "blank.csv"),
        (PNG, "csv", "photo.png"),
        (b"PK\x03\x04" + b"x" * 100, "csv", "book.xlsx"),
        (b"\xff\xfe\xfa\xfb" * 50, "csv", "garbage.csv"),
        ("日期,金額\n".encode(), "csv", "header-only.csv"),
        (b"just one column\nmore\n", "csv", "one-column.csv"),
        (b'a,"b\n1,2\n', "csv", "open-quote.csv"),
        (EINVOICE.encode(), "csv", "invoice-as-bank.csv"),
        ((BANK_HEADER + BANK_LINES).encode(), "einvoice", "bank-as-invoice.csv"),
        ((BANK_HEADER + BANK_LINES).encode(), "pdf", "bank.csv"),
        (b"x,y\n" + b"1,2\n" * 5001, "csv", "many-lines.csv"),
    ],
)
def test_bad_uploads_get_a_message_not_a_500(client, me, data, kind, name):
    response = upload(client, _cash(me), data, kind, name=name)
    assert 400 <= response.status_code < 500
    assert "invalid-feedback" in text(response) or "alert-danger" in text(response)
    assert db.session.scalar(select(func.count()).select_from(BookImport)) == 0


def test_a_file_over_the_size_limit_is_refused(client, me, monkeypatch):
    """The limit is lowered so the test client need not spool a megabyte to disk."""
    monkeypatch.setattr(import_text, "MAX_IMPORT_BYTES", 1000)
    monkeypatch.setattr(web_imports, "MAX_IMPORT_BYTES", 1000)
    response = upload(client, _cash(me), b"a,b\n" + b"1,2\n" * 300)
    assert response.status_code == 409
    assert "KB" in text(response)
    assert db.session.scalar(select(func.count()).select_from(BookImport)) == 0


def test_bad_accounts_and_categories_are_refused(client, me, make_user):
    other = make_user()
    accounts.ensure_book(db.session, other.id)
    body = (BANK_HEADER + BANK_LINES).encode()
    for account in (_cash(other), 0, "x", 2**40):
        assert upload(client, account, body).status_code == 400
    mirror = accounts.create_account(db.session, me.id, "鑽石", AccountType.DIAMONDS, "DIA")
    mirror.read_only = True
    db.session.commit()
    assert upload(client, mirror.id, body).status_code == 400
    for category in (_code(other, "food"), _code(me, "salary"), "abc"):
        assert upload(client, _cash(me), body, category=category).status_code in (400, 409)
    assert db.session.scalar(select(func.count()).select_from(BookImport)) == 0


@pytest.mark.parametrize(
    "given",
    [
        {"date": "99"},
        {"date": ""},
        {"date": "1"},  # the payee's column twice
        {"amount": "2"},  # an amount column and withdrawal/deposit
        {"withdrawal": ""},
        {"date_order": "julian"},
        {"sign": "maybe"},
        {"category": "abc"},
        {"category": "999999"},
        {"income_category": "-1"},
        {"date": "\u0661"},
        {"note": "1" * 30},
    ],
)
def test_bad_mappings_get_a_message_not_a_500(client, me, given):
    import_id = staged(upload(client, _cash(me), (BANK_HEADER + BANK_LINES).encode()))
    for action in ("preview", "confirm"):
        response = client.post(
            f"/book/imports/{import_id}", data={**mapping(me, **given), "action": action}
        )
        assert response.status_code in (400, 409), given
        assert "invalid-feedback" in text(response) or "alert-danger" in text(response)
    assert live(me) == []


def test_another_users_import_is_not_found(client, me, make_user, login):
    import_id = staged(upload(client, _cash(me), (BANK_HEADER + BANK_LINES).encode()))
    login(make_user())
    assert client.get(f"/book/imports/{import_id}").status_code == 404
    for path in ("", "/undo", "/discard"):
        assert client.post(f"/book/imports/{import_id}{path}").status_code == 404
    assert db.session.get(BookImport, import_id).status == "pending"


def test_a_large_file_imports_in_one_go(client, me):
    cash = _cash(me)
    lines = "".join(
        f"2026/{m}/{d},店{m}-{d},{m * 100 + d},,0,\n" for m in range(1, 13) for d in range(1, 29)
    )
    import_id = staged(upload(client, cash, (BANK_HEADER + lines).encode()))
    client.post(f"/book/imports/{import_id}", data={**mapping(me), "action": "confirm"})
    assert len(live(me)) == 12 * 28
    total = db.session.scalar(
        select(func.sum(BookPosting.amount)).where(BookPosting.account_id == cash)
    )
    assert total == -sum(m * 100 + d for m in range(1, 13) for d in range(1, 29))
