"""The accounts and categories pages through HTTP: create, edit, archive, and bad input
refused with a 4xx."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from clanledger.extensions import db
from clanledger.models.book import BookAccount, BookCategory
from clanledger.services.book import accounts, categories


@pytest.fixture
def me(make_user, login):
    user = make_user(locale="zh_Hant")
    accounts.ensure_book(db.session, user.id)
    login(user)
    return user


def _account(user, name) -> BookAccount | None:
    db.session.expire_all()
    return db.session.scalar(
        select(BookAccount).where(BookAccount.user_id == user.id, BookAccount.name == name)
    )


def test_create_card_with_opening_debt_shows_owed(client, me):
    data = {"name": "玉山卡", "type": "credit_card", "currency": "TWD", "opening": "-3,000"}
    response = client.post("/book/accounts/new", data={**data, "closing_day": "15"})
    assert response.status_code == 302
    card = _account(me, "玉山卡")
    assert accounts.balances(db.session, me.id)[card.id] == -3000
    html = client.get("/book/accounts").get_data(as_text=True)
    assert "待繳" in html and "3,000" in html and "信用卡" in html
    assert "TWD -3,000" in html  # net worth


def test_usd_account_keeps_cents(client, me):
    data = {"name": "美金", "type": "bank", "currency": "USD", "opening": "12.34"}
    assert client.post("/book/accounts/new", data=data).status_code == 302
    usd = _account(me, "美金")
    assert usd.minor_digits == 2
    assert accounts.balances(db.session, me.id)[usd.id] == 1234


BAD_ACCOUNTS = [
    {"name": ""},
    {"name": "x" * 65},
    {"type": "stocks"},
    {"currency": "XYZ"},
    {"minor_digits": "9"},
    {"opening": "abc"},
    {"opening": "1.5"},
    {"opening": "9" * 40},
    {"closing_day": "32"},
    {"closing_day": "abc"},
    {"name": "現金"},  # taken
]


@pytest.mark.parametrize("change", BAD_ACCOUNTS)
def test_bad_new_account_is_4xx_and_stores_nothing(client, me, change):
    before = len(accounts.list_accounts(db.session, me.id, include_archived=True))
    data = {"name": "新帳戶", "type": "bank", "currency": "TWD", **change}
    response = client.post("/book/accounts/new", data=data)
    assert 400 <= response.status_code < 500
    db.session.expire_all()
    assert len(accounts.list_accounts(db.session, me.id, include_archived=True)) == before


def test_rename_and_archive_an_account(client, me):
    cash = accounts.list_accounts(db.session, me.id)[0]
    url = f"/book/accounts/{cash.id}/edit"
    assert client.post(url, data={"name": "錢包", "archived": "y"}).status_code == 302
    assert _account(me, "錢包").archived
    assert client.post(url, data={"name": ""}).status_code == 400
    assert client.post(url, data={"name": "錢包", "closing_day": "0"}).status_code == 400


def test_categories_add_child_rename_archive(client, me):
    food = categories.by_code(db.session, me.id, "food")
    data = {"name": "宵夜", "kind": "expense", "parent": str(food.id)}
    assert client.post("/book/categories/new", data=data).status_code == 302
    late = db.session.scalar(select(BookCategory).where(BookCategory.name == "宵夜"))
    assert late.parent_id == food.id
    assert client.post("/book/categories/new", data=data).status_code == 409  # taken
    lunch = categories.by_code(db.session, me.id, "lunch")
    bad_parent = {"name": "x", "kind": "expense", "parent": str(lunch.id)}  # two levels only
    assert client.post("/book/categories/new", data=bad_parent).status_code == 400
    assert client.post("/book/categories/new", data={**data, "kind": "loan"}).status_code == 400
    url = f"/book/categories/{late.id}/edit"
    assert client.post(url, data={"name": "消夜", "archived": "y"}).status_code == 302
    db.session.expire_all()
    assert late.name == "消夜" and late.archived
    assert "消夜" in client.get("/book/categories").get_data(as_text=True)
    assert "消夜" not in client.get("/book/add").get_data(as_text=True)  # out of the pickers
