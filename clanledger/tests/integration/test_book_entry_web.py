"""Fast entry, the transactions list, edit/delete/undo and the audit trail, through HTTP:
every page and many bad inputs (always a 4xx with a one-line message, never a 500)."""

from __future__ import annotations

import json
import re
from datetime import date
from html import unescape

import pytest
from sqlalchemy import select

from clanledger.domain.book.kinds import AccountType, TxnKind
from clanledger.extensions import db
from clanledger.models.book import BookAccount, BookAudit, BookCategory, BookTransaction
from clanledger.services.book import accounts, categories, transactions
from clanledger.services.book.transactions import Draft
from clanledger.web.book.entry_form import today


@pytest.fixture
def me(make_user, login):
    user = make_user(locale="zh_Hant")
    accounts.ensure_book(db.session, user.id)
    login(user)
    return user


def _cash(user) -> BookAccount:
    return db.session.scalar(
        select(BookAccount).where(BookAccount.user_id == user.id, BookAccount.name == "現金")
    )


def _cat(user, code: str) -> BookCategory:
    return categories.by_code(db.session, user.id, code)


def _expense(user, amount=120, code="lunch", on=None, **fields) -> BookTransaction:
    draft = Draft(
        kind=TxnKind.EXPENSE,
        occurred_on=on or today(),
        account_id=_cash(user).id,
        amount=amount,
        category_id=_cat(user, code).id,
        **fields,
    )
    return transactions.record(db.session, user.id, draft)


def _live(user) -> list[BookTransaction]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(BookTransaction).where(
                BookTransaction.user_id == user.id, BookTransaction.deleted_at.is_(None)
            )
        )
    )


def _message(response) -> str:
    """The page's error text (feedback under a field, or the error page's message)."""
    html = response.get_data(as_text=True)
    found = re.findall(
        r'class="(?:invalid-feedback d-block|alert alert-danger)"[^>]*>([^<]+)<', html
    )
    return " ".join(found) or html


def test_every_page_renders(client, me):
    _expense(me, payee="7-11", tags=("早餐",))
    txn = _live(me)[0]
    for url in (
        "/book",
        "/book/add",
        "/book/transactions",
        f"/book/transactions/{txn.id}/edit",
        "/book/audit",
        "/book/accounts",
        "/book/accounts/new",
        f"/book/accounts/{_cash(me).id}/edit",
        "/book/categories",
        "/book/categories/new",
        f"/book/categories/{_cat(me, 'food').id}/edit",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "記" in response.get_data(as_text=True) or "帳" in response.get_data(as_text=True)


def test_add_form_is_amount_first_with_chips(client, me):
    html = client.get("/book/add").get_data(as_text=True)
    amount = html.index('name="amount"')
    assert 'inputmode="decimal"' in html[amount - 300 : amount + 300]
    assert "autofocus" in html[amount - 300 : amount + 300]
    assert amount < html.index('name="category_id"')
    assert f'value="{today().isoformat()}"' in html
    assert "午餐" in html and "餐飲" in html


def test_add_expense_and_see_it_in_the_month(client, me):
    lunch = _cat(me, "lunch")
    response = client.post(
        "/book/add",
        data={
            "kind": "expense",
            "amount": "1,280",
            "category_id": lunch.id,
            "account_id": _cash(me).id,
            "occurred_on": today().isoformat(),
            "payee": "鼎泰豐",
            "tags": "#聚餐, 家人",
        },
    )
    assert response.status_code == 302
    (txn,) = _live(me)
    assert txn.kind is TxnKind.EXPENSE and txn.payee == "鼎泰豐" and txn.tags == "家人 聚餐"
    assert sorted(p.amount for p in txn.postings) == [-1280, 1280]
    # The flash after saving carries an undo button for the new transaction.
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "/book/undo/" in page
    listing = client.get("/book/transactions").get_data(as_text=True)
    assert "鼎泰豐" in listing and "餐飲 › 午餐" in listing and "-1,280" in listing


def test_recent_categories_payees_and_last_account_come_first(client, me):
    wallet = accounts.create_account(db.session, me.id, "LINE Pay", AccountType.E_WALLET)
    draft = Draft(
        kind=TxnKind.EXPENSE,
        occurred_on=today(),
        account_id=wallet.id,
        amount=60,
        category_id=_cat(me, "drinks").id,
        payee="五十嵐",
    )
    transactions.record(db.session, me.id, draft)
    html = client.get("/book/add").get_data(as_text=True)
    drinks = _cat(me, "drinks")
    assert html.index(f'id="cat-expense-recent-{drinks.id}"') < html.index("所有分類")
    assert '<option value="五十嵐">' in html
    assert f'<option value="{wallet.id}" data-currency="TWD" data-digits="0" selected>' in html
    mapping = re.search(r'data-payee-categories="([^"]*)"', html)[1]
    assert json.loads(unescape(mapping)) == {"五十嵐": drinks.id}


def test_income_transfer_card_payment_and_split(client, me):
    cash = _cash(me)
    card = accounts.create_account(db.session, me.id, "玉山卡", AccountType.CREDIT_CARD)
    salary = _cat(me, "salary")
    base = {"account_id": cash.id, "occurred_on": "2026-03-05"}
    assert (
        client.post(
            "/book/add",
            data={**base, "kind": "income", "amount": "40000", "category_id": salary.id},
        ).status_code
        == 302
    )
    assert (
        client.post(
            "/book/add",
            data={**base, "kind": "transfer", "amount": "5000", "to_account_id": card.id},
        ).status_code
        == 302
    )
    split = {
        **base,
        "kind": "expense",
        "amount": "500",
        "split_category": [_cat(me, "lunch").id, _cat(me, "daily").id, ""],
        "split_amount": ["320", "180", ""],
    }
    assert client.post("/book/add", data=split).status_code == 302
    balances = accounts.balances(db.session, me.id)
    assert balances[cash.id] == 40000 - 5000 - 500
    assert balances[card.id] == 5000
    listing = client.get("/book/transactions?month=2026-03").get_data(as_text=True)
    assert "玉山卡" in listing and "40,000" in listing and "日用品" in listing


def test_transfer_across_currencies_asks_the_amount_received(client, me):
    usd = accounts.create_account(db.session, me.id, "美金帳戶", AccountType.BANK, "USD")
    data = {
        "kind": "transfer",
        "amount": "3200",
        "account_id": _cash(me).id,
        "to_account_id": usd.id,
        "occurred_on": "2026-03-05",
    }
    response = client.post("/book/add", data=data)
    assert response.status_code == 409
    assert "USD" in _message(response)
    assert client.post("/book/add", data={**data, "received": "100.25"}).status_code == 302
    assert accounts.balances(db.session, me.id)[usd.id] == 10025


SPLIT_OFF = [
    (["300", "100"], "100"),  # 400 of 500: 100 less
    (["300", "300"], "100"),  # 600 of 500: 100 more
]


@pytest.mark.parametrize(("parts", "off"), SPLIT_OFF)
def test_split_lines_that_do_not_add_up_say_by_how_much(client, me, parts, off):
    data = {
        "kind": "expense",
        "amount": "500",
        "account_id": _cash(me).id,
        "occurred_on": "2026-03-05",
        "split_category": [_cat(me, "lunch").id, _cat(me, "daily").id],
        "split_amount": parts,
    }
    response = client.post("/book/add", data=data)
    assert response.status_code == 400
    assert off in _message(response)
    assert _live(me) == []


def _good(me) -> dict:
    return {
        "kind": "expense",
        "amount": "120",
        "category_id": str(_cat(me, "lunch").id),
        "account_id": str(_cash(me).id),
        "occurred_on": "2026-03-05",
    }


BAD_ADD = [
    ({"amount": "abc"}, 400),
    ({"amount": ""}, 400),
    ({"amount": "1.5"}, 400),  # TWD keeps whole dollars
    ({"amount": "-5"}, 400),
    ({"amount": "0"}, 400),
    ({"amount": "9" * 30}, 400),
    ({"amount": "1e400"}, 400),
    ({"amount": "NaN"}, 400),
    ({"occurred_on": "2026-02-30"}, 400),
    ({"occurred_on": "2026-13-01"}, 400),
    ({"occurred_on": "yesterday"}, 400),
    ({"occurred_on": ""}, 400),
    ({"occurred_on": "1900-01-01"}, 409),
    ({"kind": "opening"}, 400),
    ({"kind": "clan"}, 400),
    ({"kind": "<script>"}, 400),
    ({"category_id": ""}, 400),
    ({"category_id": "abc"}, 400),
    ({"category_id": "999999"}, 409),
    ({"category_id": "99999999999999999999"}, 400),
    ({"account_id": "abc"}, 400),
    ({"account_id": "999999"}, 400),
    ({"account_id": ""}, 400),
    ({"kind": "transfer"}, 400),  # no destination
    ({"kind": "transfer", "to_account_id": "999999"}, 400),
    ({"payee": "x" * 200}, 409),
    ({"tags": " ".join(f"t{n}" for n in range(20))}, 409),
    ({"split_category": "abc", "split_amount": "120"}, 400),
    ({"split_category": "", "split_amount": "abc"}, 400),
]


@pytest.mark.parametrize(("change", "status"), BAD_ADD)
def test_bad_fast_entry_is_refused_in_one_line(client, me, change, status):
    response = client.post("/book/add", data={**_good(me), **change})
    assert response.status_code == status
    message = _message(response)
    assert 0 < len(message) < 200 and "\n" not in message.strip()
    assert _live(me) == []


def test_other_users_ids_are_refused(client, me, make_user):
    other = make_user()
    accounts.ensure_book(db.session, other.id)
    theirs = _cash(other) or accounts.list_accounts(db.session, other.id)[0]
    their_cat = categories.by_code(db.session, other.id, "lunch")
    for change in ({"account_id": theirs.id}, {"category_id": their_cat.id}):
        response = client.post("/book/add", data={**_good(me), **change})
        assert 400 <= response.status_code < 500
    txn = _expense(other)
    assert client.get(f"/book/transactions/{txn.id}/edit").status_code == 404
    assert client.post(f"/book/transactions/{txn.id}/delete").status_code == 404
    audit_id = db.session.scalar(select(BookAudit.id).where(BookAudit.user_id == other.id))
    assert client.post(f"/book/undo/{audit_id}").status_code == 404
    assert client.get(f"/book/transactions?account_id={theirs.id}").status_code == 404
    assert client.get(f"/book/transactions?category_id={their_cat.id}").status_code == 404
    assert client.get(f"/book/accounts/{theirs.id}/edit").status_code == 404
    assert client.get(f"/book/categories/{their_cat.id}/edit").status_code == 404


BAD_LIST = [
    "month=2026-13",
    "month=2026-00",
    "month=abc",
    "month=99999-01",
    "month=2026-1",
    "kind=refund",
    "account_id=abc",
    "category_id=-3",
    "account_id=999999",
    "category_id=999999",
]


@pytest.mark.parametrize("query", BAD_LIST)
def test_bad_list_parameters_are_4xx(client, me, query):
    response = client.get(f"/book/transactions?{query}")
    assert 400 <= response.status_code < 500


def test_filters_search_and_paging(client, me):
    march = date(2026, 3, 10)
    _expense(me, 100, "lunch", march, payee="麥當勞", tags=("速食",))
    _expense(me, 200, "taxi", march, payee="台灣大車隊", note="去機場")
    _expense(me, 300, "lunch", date(2026, 4, 1), payee="摩斯")
    food = _cat(me, "food")

    def shown(query: str) -> str:
        response = client.get(f"/book/transactions?month=2026-03&{query}")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    assert "麥當勞" in shown("") and "摩斯" not in shown("")
    by_food = shown(f"category_id={food.id}")  # a parent includes its children
    assert "麥當勞" in by_food and "台灣大車隊" not in by_food
    assert "台灣大車隊" in shown("q=機場") and "麥當勞" not in shown("q=機場")
    assert "麥當勞" in shown("tag=速食") and "台灣大車隊" not in shown("tag=速食")
    assert "台灣大車隊" not in shown("q=100%25")
    assert "麥當勞" not in shown("kind=income")
    for n in range(55):
        _expense(me, 10 + n, "snacks", march, payee=f"p{n:02d}")
    page2 = client.get("/book/transactions?month=2026-03&page=2").get_data(as_text=True)
    assert "2 / 2" in page2
    assert client.get("/book/transactions?month=2026-03&page=999999999").status_code == 200


def test_edit_with_a_stale_version_is_409(client, me):
    txn = _expense(me, 120)
    form = {**_good(me), "amount": "150", "version": str(txn.version)}
    assert client.post(f"/book/transactions/{txn.id}/edit", data=form).status_code == 302
    response = client.post(f"/book/transactions/{txn.id}/edit", data={**form, "amount": "180"})
    assert response.status_code == 409
    assert "tab" in _message(response) or "分頁" in _message(response)
    db.session.expire_all()
    assert sorted(p.amount for p in _live(me)[0].postings) == [-150, 150]
    no_version = {**_good(me)}
    assert client.post(f"/book/transactions/{txn.id}/edit", data=no_version).status_code == 400


def test_edit_prefills_a_split(client, me):
    draft = Draft(
        kind=TxnKind.EXPENSE,
        occurred_on=date(2026, 3, 1),
        account_id=_cash(me).id,
        amount=500,
        splits=(
            transactions.Split(_cat(me, "lunch").id, 300),
            transactions.Split(_cat(me, "daily").id, 200),
        ),
    )
    txn = transactions.record(db.session, me.id, draft)
    html = client.get(f"/book/transactions/{txn.id}/edit").get_data(as_text=True)
    assert 'value="300"' in html and 'value="200"' in html and 'value="500"' in html


def test_delete_then_undo_then_undo_again(client, me):
    txn = _expense(me, 120, payee="全家")
    response = client.post(f"/book/transactions/{txn.id}/delete", data={"version": txn.version})
    assert response.status_code == 302
    assert _live(me) == []
    listing = client.get(response.headers["Location"]).get_data(as_text=True)
    match = re.search(r'action="/book/undo/(\d+)"', listing)
    assert match, "the flash carries an undo button"
    assert client.post(f"/book/undo/{match[1]}").status_code == 302
    assert [t.id for t in _live(me)] == [txn.id]
    again = client.post(f"/book/undo/{match[1]}")
    assert again.status_code == 409
    assert (
        client.post(f"/book/transactions/{txn.id}/delete", data={"version": "1"}).status_code == 409
    )
    assert client.post("/book/undo/999999").status_code == 404


def test_deleted_transaction_cannot_be_edited_or_deleted(client, me):
    txn = _expense(me)
    transactions.delete(db.session, me.id, txn.id)
    assert client.get(f"/book/transactions/{txn.id}/edit").status_code == 409
    assert client.post(f"/book/transactions/{txn.id}/delete").status_code == 409


def test_clan_rows_are_read_only(client, me):
    txn = _expense(me, 50)
    txn.kind = TxnKind.CLAN
    db.session.commit()
    listing = client.get("/book/transactions").get_data(as_text=True)
    assert f"/book/transactions/{txn.id}/edit" not in listing
    assert client.get(f"/book/transactions/{txn.id}/edit").status_code == 409
    assert client.post(f"/book/transactions/{txn.id}/delete").status_code == 409


def test_audit_trail_in_words_with_undo(client, me):
    txn = _expense(me, 120, payee="全家")
    form = {**_good(me), "amount": "150", "payee": "萊爾富", "version": str(txn.version)}
    client.post(f"/book/transactions/{txn.id}/edit", data=form)
    html = client.get("/book/audit").get_data(as_text=True)
    assert "全家" in html and "萊爾富" in html and "150" in html
    assert html.count('action="/book/undo/') == 3  # two rows and the flash of the edit
    assert client.get("/book/audit?page=abc").status_code == 200
    assert client.get("/book/audit?page=-4").status_code == 200


def test_home_shows_balances_month_and_latest(client, me):
    _expense(me, 120, payee="早餐店")
    card = accounts.create_account(db.session, me.id, "國泰卡", AccountType.CREDIT_CARD)
    draft = Draft(TxnKind.EXPENSE, today(), card.id, 900, category_id=_cat(me, "games").id)
    transactions.record(db.session, me.id, draft)
    html = client.get("/book").get_data(as_text=True)
    assert "早餐店" in html and 'href="/book/add"' in html
    assert "-120" in html  # cash balance, and net worth -1,020
    assert "-1,020" in html
    assert "1,020" in html  # this month's spending
    assert "900" in html and ("owed" in html or "待繳" in html or "欠款" in html)


def test_edit_an_opening_balance_keeps_its_kind(client, me):
    card = accounts.create_account(db.session, me.id, "台新卡", AccountType.CREDIT_CARD)
    draft = Draft(TxnKind.OPENING, date(2026, 1, 1), card.id, -2000)
    txn = transactions.record(db.session, me.id, draft)
    html = client.get(f"/book/transactions/{txn.id}/edit").get_data(as_text=True)
    assert 'name="kind" value="opening"' in html and 'value="-2000"' in html
    form = {
        "kind": "opening",
        "amount": "-2500",
        "account_id": card.id,
        "occurred_on": "2026-01-01",
        "version": txn.version,
    }
    assert client.post(f"/book/transactions/{txn.id}/edit", data=form).status_code == 302
    assert accounts.balances(db.session, me.id)[card.id] == -2500
    bad = {**form, "kind": "expense", "version": txn.version + 1}
    assert client.post(f"/book/transactions/{txn.id}/edit", data=bad).status_code == 400
