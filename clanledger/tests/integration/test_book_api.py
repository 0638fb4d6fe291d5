"""The personal book's REST API (``/api/v1/book``): accounts with balances, the category
tree, transactions read, recorded, edited, deleted and undone, the personal scope, idempotent
retries, and problem details for every bad input."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa
from openapi_spec_validator import validate
from test_migrations import empty_app  # noqa: F401 (a fixture: a database with no tables)

from clanledger.domain.book.kinds import TxnKind
from clanledger.domain.book.money import MAX_AMOUNT
from clanledger.extensions import db
from clanledger.models import ApiToken
from clanledger.models.book import BookTransaction
from clanledger.services import api_tokens
from clanledger.services.book import accounts, categories, transactions
from clanledger.services.book.transactions import Draft

PROBLEM = "application/problem+json"
BOOK = "/api/v1/book"


def _code(user_id: int, code: str) -> int:
    found = categories.by_code(db.session, user_id, code)
    assert found is not None
    return found.id


@pytest.fixture
def book(make_user):
    """An owner with cash (TWD, whole dollars), a USD bank account, a credit card and a
    TWD account kept in cents; tokens with and without the personal scope; another user
    with a book of their own."""
    owner, other = make_user(), make_user()
    for user in (owner, other):
        accounts.ensure_book(db.session, user.id)
    cash = accounts.list_accounts(db.session, owner.id)[0]
    usd = accounts.create_account(db.session, owner.id, "Chase", "bank", "USD")
    card = accounts.create_account(db.session, owner.id, "國泰 CUBE", "credit_card", "TWD")
    cents = accounts.create_account(db.session, owner.id, "郵局", "bank", "TWD", minor_digits=2)
    other_cash = accounts.list_accounts(db.session, other.id)[0]

    def token(user, scope: str, personal: bool) -> str:
        return api_tokens.create_token(db.session, user.id, "t", scope, None, personal)[1]

    return {
        "owner": owner,
        "other": other,
        "cash": cash.id,
        "usd": usd.id,
        "card": card.id,
        "cents": cents.id,
        "other_cash": other_cash.id,
        "lunch": _code(owner.id, "lunch"),
        "food": _code(owner.id, "food"),
        "drinks": _code(owner.id, "drinks"),
        "transport": _code(owner.id, "transport"),
        "salary": _code(owner.id, "salary"),
        "other_lunch": _code(other.id, "lunch"),
        "write": token(owner, "write", True),
        "read": token(owner, "read", True),
        "clan_bot": token(owner, "write", False),
        "other_write": token(other, "write", True),
    }


def _call(client, method, url, secret, json_body=None, data=None, key=None, lang="en"):
    headers = {"Accept-Language": lang}
    if secret:
        headers["Authorization"] = f"Bearer {secret}"
    if key is not None:
        headers["Idempotency-Key"] = key
    if data is not None:
        headers["Content-Type"] = "application/json"
        return client.open(url, method=method, headers=headers, data=data)
    return client.open(url, method=method, headers=headers, json=json_body)


def _lunch(book, **extra) -> dict:
    return {
        "kind": "expense",
        "occurred_on": "2026-12-03",
        "account_id": book["cash"],
        "amount": 120,
        "category_id": book["lunch"],
        "payee": "八方雲集",
        **extra,
    }


def _post(client, book, body: dict, **kw):
    return _call(client, "POST", f"{BOOK}/transactions", book["write"], body, **kw)


def _count() -> int:
    return db.session.query(BookTransaction).count()


def test_accounts_show_balances_in_minor_units_and_as_exact_text(client, book):
    assert _post(client, book, _lunch(book)).status_code == 201
    salary = {
        "kind": "income",
        "occurred_on": "2026-12-05",
        "account_id": book["usd"],
        "amount_decimal": "1,234.50",
        "category_id": book["salary"],
    }
    assert _post(client, book, salary).status_code == 201
    response = _call(client, "GET", f"{BOOK}/accounts", book["read"])
    assert response.status_code == 200
    shown = {a["id"]: a for a in response.get_json()["items"]}
    assert set(shown) == {book["cash"], book["usd"], book["card"], book["cents"]}
    cash, usd = shown[book["cash"]], shown[book["usd"]]
    assert (cash["balance"], cash["balance_decimal"], cash["minor_digits"]) == (-120, "-120", 0)
    assert (usd["balance"], usd["balance_decimal"], usd["currency"]) == (123450, "1234.50", "USD")
    assert shown[book["card"]]["type"] == "credit_card"
    assert shown[book["cents"]]["balance_decimal"] == "0.00"


def test_archived_accounts_and_categories_only_when_asked(client, book):
    owner = book["owner"].id
    accounts.update_account(db.session, owner, book["cents"], "郵局", archived=True)
    categories.update_category(db.session, owner, book["drinks"], "飲料", archived=True)
    ids = [
        a["id"] for a in _call(client, "GET", f"{BOOK}/accounts", book["read"]).get_json()["items"]
    ]
    assert book["cents"] not in ids
    every = _call(client, "GET", f"{BOOK}/accounts?archived=true", book["read"]).get_json()
    assert book["cents"] in [a["id"] for a in every["items"]]
    tree = _call(client, "GET", f"{BOOK}/categories", book["read"]).get_json()["items"]
    food = next(c for c in tree if c["id"] == book["food"])
    assert food["kind"] == "expense" and food["code"] == "food" and food["name"] == "餐飲"
    children = [c["code"] for c in food["children"]]
    assert "lunch" in children and "drinks" not in children
    assert all("children" not in child for child in food["children"])
    assert {c["kind"] for c in tree} == {"expense", "income"}
    full = _call(client, "GET", f"{BOOK}/categories?archived=1", book["read"]).get_json()
    food = next(c for c in full["items"] if c["id"] == book["food"])
    assert "drinks" in [c["code"] for c in food["children"]]


def test_an_expense_is_recorded_balanced_and_read_back(client, book):
    response = _post(client, book, _lunch(book, tags=["#午餐", "公司"], note="排骨"))
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert made["kind"] == "expense" and made["occurred_on"] == "2026-12-03"
    assert (made["account_id"], made["amount"], made["amount_decimal"]) == (
        book["cash"],
        120,
        "120",
    )
    assert made["currency"] == "TWD" and made["tags"] == ["公司", "午餐"]
    assert sum(p["amount"] for p in made["postings"]) == 0
    lunch = next(p for p in made["postings"] if p["category_id"] == book["lunch"])
    assert lunch["category"] == "餐飲 › 午餐" and lunch["amount"] == 120
    again = _call(client, "GET", f"{BOOK}/transactions/{made['id']}", book["read"])
    assert again.status_code == 200 and again.get_json() == made
    txn = db.session.get(BookTransaction, made["id"])
    assert txn.user_id == book["owner"].id and txn.payee == "八方雲集"


def test_splits_in_cents_and_a_discount_line(client, book):
    body = {
        "kind": "expense",
        "occurred_on": "2026-12-04",
        "account_id": book["cents"],
        "splits": [
            {"category_id": book["lunch"], "amount_decimal": "85.50"},
            {"category_id": book["drinks"], "amount": 4500, "memo": "珍奶"},
            {"category_id": book["drinks"], "amount_decimal": "-5", "memo": "折價"},
        ],
    }
    response = _post(client, book, body)
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert (made["amount"], made["amount_decimal"], made["minor_digits"]) == (12550, "125.50", 2)
    amounts = sorted(p["amount_decimal"] for p in made["postings"])
    assert amounts == sorted(["-125.50", "85.50", "45.00", "-5.00"])
    wrong_total = {**body, "amount": 99999}
    refused = _post(client, book, wrong_total)
    assert refused.status_code == 422 and "splits" in refused.get_json()["errors"]


def test_a_card_payment_and_a_transfer_across_currencies(client, book):
    payment = {
        "kind": "transfer",
        "occurred_on": "2026-12-10",
        "account_id": book["cash"],
        "to_account_id": book["card"],
        "amount": 5000,
    }
    made = _post(client, book, payment).get_json()
    assert (made["account_id"], made["to_account_id"], made["amount"]) == (
        book["cash"],
        book["card"],
        5000,
    )
    abroad = {**payment, "to_account_id": book["usd"], "amount": 3200, "received_decimal": "100"}
    response = _post(client, book, abroad)
    assert response.status_code == 201, response.get_json()
    lines = {(p["account_id"], p["currency"]): p["amount"] for p in response.get_json()["postings"]}
    assert lines[(book["usd"], "USD")] == 10000 and lines[(book["cash"], "TWD")] == -3200
    for currency in ("TWD", "USD"):
        assert (
            sum(p["amount"] for p in response.get_json()["postings"] if p["currency"] == currency)
            == 0
        )
    missing = _post(client, book, {**abroad, "received_decimal": None})
    assert missing.status_code == 422 and "received" in missing.get_json()["errors"]
    balances = accounts.balances(db.session, book["owner"].id)
    assert balances[book["card"]] == 5000 and balances[book["usd"]] == 10000


def test_the_list_filters_by_month_account_and_category_and_pages(client, book):
    days = ["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-31"]
    for n, day in enumerate(days):
        assert _post(client, book, _lunch(book, occurred_on=day, amount=100 + n)).status_code == 201
    taxi = _lunch(book, occurred_on="2026-12-15", category_id=book["transport"], amount=300)
    assert _post(client, book, {**taxi, "account_id": book["card"]}).status_code == 201

    def listed(query: str) -> list[int]:
        response = _call(client, "GET", f"{BOOK}/transactions?{query}", book["read"])
        assert response.status_code == 200, response.get_json()
        return [t["amount"] for t in response.get_json()["items"]]

    assert listed("month=2026-12") == [104, 300, 103, 102, 101]  # newest first
    assert listed("month=2026-11") == [100]
    assert listed(f"account_id={book['card']}") == [300]
    assert listed(f"category_id={book['food']}") == [104, 103, 102, 101, 100]  # its children
    assert listed(f"category_id={book['transport']}&month=2026-12") == [300]
    assert listed("month=2027-01") == []
    seen, cursor, pages = [], None, 0
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = _call(client, "GET", f"{BOOK}/transactions?{query}", book["read"]).get_json()
        seen += [t["id"] for t in body["items"]]
        pages, cursor = pages + 1, body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 6


def test_delete_answers_the_audit_id_and_undo_brings_it_back(client, book):
    made = _post(client, book, _lunch(book)).get_json()
    url = f"{BOOK}/transactions/{made['id']}"
    stale = _call(client, "DELETE", f"{url}?version={made['version'] + 1}", book["write"])
    assert stale.status_code == 409 and stale.content_type == PROBLEM
    deleted = _call(client, "DELETE", f"{url}?version={made['version']}", book["write"])
    assert deleted.status_code == 200, deleted.get_json()
    body = deleted.get_json()
    assert body["transaction"]["deleted"] is True and body["audit_id"] > 0
    assert _call(client, "GET", f"{BOOK}/transactions", book["read"]).get_json()["items"] == []
    listed = _call(client, "GET", f"{BOOK}/transactions?deleted=true", book["read"]).get_json()
    assert [t["id"] for t in listed["items"]] == [made["id"]]
    assert accounts.balances(db.session, book["owner"].id).get(book["cash"], 0) == 0
    again = _call(client, "DELETE", url, book["write"])
    assert again.status_code == 409
    undo = f"{BOOK}/audit/{body['audit_id']}/undo"
    restored = _call(client, "POST", undo, book["write"])
    assert restored.status_code == 200 and restored.get_json()["deleted"] is False
    assert accounts.balances(db.session, book["owner"].id)[book["cash"]] == -120
    assert _call(client, "POST", undo, book["write"]).status_code == 409


def test_an_edit_replaces_the_lines_and_checks_the_version(client, book):
    made = _post(client, book, _lunch(book)).get_json()
    url = f"{BOOK}/transactions/{made['id']}"
    edit = _lunch(book, amount=150, category_id=book["drinks"], version=made["version"])
    response = _call(client, "PUT", url, book["write"], edit)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["amount"] == 150
    assert response.get_json()["version"] > made["version"]
    assert {p["category_id"] for p in response.get_json()["postings"]} == {None, book["drinks"]}
    stale = _call(client, "PUT", url, book["write"], edit)
    assert stale.status_code == 409 and stale.content_type == PROBLEM


def test_a_retry_with_the_same_key_records_once(client, book):
    first = _post(client, book, _lunch(book), key="lunch-2026-12-03")
    retry = _post(client, book, _lunch(book), key="lunch-2026-12-03")
    assert first.status_code == retry.status_code == 201
    assert retry.get_json() == first.get_json() and retry.headers["Idempotent-Replayed"] == "true"
    assert _count() == 1
    other_body = _post(client, book, _lunch(book, amount=121), key="lunch-2026-12-03")
    assert other_body.status_code == 422 and _count() == 1
    assert _post(client, book, _lunch(book), key="lunch-2").status_code == 201
    assert _count() == 2


def test_the_date_defaults_to_today_in_taipei(client, book):
    body = _lunch(book)
    del body["occurred_on"]
    made = _post(client, book, body).get_json()
    assert abs((date.fromisoformat(made["occurred_on"]) - date.today()).days) <= 1


def _every_book_route(book, txn_id: int, audit_id: int) -> list[tuple[str, str, dict | None]]:
    return [
        ("GET", f"{BOOK}/accounts", None),
        ("GET", f"{BOOK}/categories", None),
        ("GET", f"{BOOK}/transactions", None),
        ("GET", f"{BOOK}/transactions/{txn_id}", None),
        ("POST", f"{BOOK}/transactions", _lunch(book)),
        ("PUT", f"{BOOK}/transactions/{txn_id}", _lunch(book)),
        ("DELETE", f"{BOOK}/transactions/{txn_id}", None),
        ("POST", f"{BOOK}/audit/{audit_id}/undo", None),
        ("PATCH", f"{BOOK}/accounts", None),  # a wrong method: 405 only with the scope
        ("GET", f"{BOOK}/nothing-here", None),
    ]


def test_a_token_without_the_personal_scope_finds_nothing(client, book):
    txn = transactions.record(
        db.session,
        book["owner"].id,
        Draft(TxnKind.EXPENSE, date(2026, 12, 1), book["cash"], 80, category_id=book["lunch"]),
    )
    audit_id = transactions.delete(db.session, book["owner"].id, txn.id).id
    nothing = _call(client, "GET", "/api/v1/nothing-here", book["clan_bot"])
    for method, url, body in _every_book_route(book, txn.id, audit_id):
        response = _call(client, method, url, book["clan_bot"], body)
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.content_type == PROBLEM
        assert response.get_json() == nothing.get_json()  # word for word a missing address
        assert "八方雲集" not in response.get_data(True)
    assert _count() == 1 and db.session.get(BookTransaction, txn.id).deleted_at is not None
    wrong_method = _call(client, "PATCH", f"{BOOK}/accounts", book["read"])
    assert wrong_method.status_code == 405 and "GET" in wrong_method.headers["Allow"]
    assert _call(client, "GET", f"{BOOK}/accounts", None).status_code == 401


def test_a_read_token_reads_but_may_not_write(client, book):
    assert _call(client, "GET", f"{BOOK}/accounts", book["read"]).status_code == 200
    refused = _call(client, "POST", f"{BOOK}/transactions", book["read"], _lunch(book))
    assert refused.status_code == 403 and refused.content_type == PROBLEM
    assert _count() == 0


def test_another_users_ids_are_404_and_their_rows_never_show(client, book):
    made = _post(client, book, _lunch(book)).get_json()
    deleted = _call(client, "DELETE", f"{BOOK}/transactions/{made['id']}", book["write"])
    audit_id = deleted.get_json()["audit_id"]
    other = book["other_write"]
    for method, url, body in [
        ("GET", f"{BOOK}/transactions/{made['id']}", None),
        ("PUT", f"{BOOK}/transactions/{made['id']}", _lunch(book)),
        ("DELETE", f"{BOOK}/transactions/{made['id']}", None),
        ("POST", f"{BOOK}/audit/{audit_id}/undo", None),
        ("GET", f"{BOOK}/transactions?account_id={book['cash']}", None),
        ("GET", f"{BOOK}/transactions?category_id={book['lunch']}", None),
    ]:
        response = _call(client, method, url, other, body)
        assert response.status_code == 404, (method, url, response.get_json())
        assert response.content_type == PROBLEM
    theirs = _call(client, "GET", f"{BOOK}/transactions?deleted=1", other).get_json()
    assert theirs["items"] == []
    their_accounts = _call(client, "GET", f"{BOOK}/accounts", other).get_json()["items"]
    assert [a["id"] for a in their_accounts] == [book["other_cash"]]
    assert db.session.get(BookTransaction, made["id"]).deleted_at is not None


# Each: a raw body, or changes to a good lunch ("@name" is the book's row of that name).
BAD_BODIES = [
    ("{not json", None),
    ("[1, 2]", None),
    ('"text"', None),
    ("null", None),
    ("", None),
    (None, {"amount": 12.5}),
    (None, {"amount": 120.0}),
    (None, {"amount": "120"}),
    (None, {"amount": -120}),
    (None, {"amount": 0}),
    (None, {"amount": True}),
    (None, {"amount": MAX_AMOUNT + 1}),
    (None, {"amount": 10**40}),
    (None, {"amount": None, "amount_decimal": "12.5"}),
    (None, {"amount": None, "amount_decimal": "abc"}),
    (None, {"amount": None, "amount_decimal": "-120"}),
    (None, {"amount": None, "amount_decimal": "1e400"}),
    (None, {"amount": None, "amount_decimal": "NaN"}),
    (None, {"amount": None, "amount_decimal": "9" * 39}),
    (None, {"amount": None, "amount_decimal": ""}),
    (None, {"amount_decimal": "120"}),  # both
    (None, {"amount": None}),
    (None, {"account_id": 999999}),
    (None, {"account_id": "@other_cash"}),
    (None, {"account_id": 2**31}),
    (None, {"account_id": "1"}),
    (None, {"account_id": None}),
    (None, {"category_id": "@other_lunch"}),
    (None, {"category_id": "@salary"}),  # income category on an expense
    (None, {"category_id": None}),
    (None, {"category_id": 0}),
    (None, {"kind": "opening"}),
    (None, {"kind": "clan"}),
    (None, {"kind": "gift"}),
    (None, {"occurred_on": "2026-02-30"}),
    (None, {"occurred_on": "1900-01-01"}),
    (None, {"occurred_on": "3000-01-01"}),
    (None, {"occurred_on": "yesterday"}),
    (None, {"occurred_on": 20261203}),
    (None, {"payee": "x" * 129}),
    (None, {"tags": "旅行 日本"}),
    (None, {"tags": ["x" * 25]}),
    (None, {"tags": [str(n) for n in range(11)]}),
    (None, {"splits": [{"category_id": "@lunch", "amount": 0}]}),
    (None, {"splits": [{"category_id": "@lunch", "amount": 1.5}]}),
    (None, {"splits": [{"category_id": "@other_lunch", "amount": 120}]}),
    (None, {"splits": [{"amount": 120}]}),
    (None, {"splits": "lunch"}),
    (None, {"splits": [{"category_id": "@lunch", "amount": -120}]}),
    (None, {"kind": "transfer", "to_account_id": "@cash"}),
    (None, {"kind": "transfer", "to_account_id": None}),
    (None, {"kind": "transfer", "to_account_id": "@other_cash"}),
    (None, {"kind": "transfer", "to_account_id": "@card", "received": 99}),
    (None, {"unknown_field": 1}),
]


def _resolved(book, value):
    if isinstance(value, str) and value.startswith("@"):
        return book[value[1:]]
    if isinstance(value, list):
        return [_resolved(book, v) for v in value]
    if isinstance(value, dict):
        return {k: _resolved(book, v) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("raw", "changes"), BAD_BODIES)
def test_bad_bodies_are_problems_never_500(client, book, raw, changes):
    body = None if raw is not None else {**_lunch(book), **_resolved(book, changes)}
    response = _post(client, book, body, data=raw)
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(True))
    assert response.content_type == PROBLEM
    assert response.get_json()["detail"]
    assert _count() == 0


def test_a_refusal_is_in_the_readers_language(client, book):
    body = _lunch(book, amount=None, amount_decimal="12.5")
    english = _post(client, book, body).get_json()
    chinese = _post(client, book, body, lang="zh-Hant").get_json()
    assert "whole amounts" in english["detail"] and english["errors"]["amount"]
    assert chinese["detail"] != english["detail"] and not chinese["detail"].isascii()


@pytest.mark.parametrize(
    "query",
    [
        "month=2026-13",
        "month=2026-1",
        "month=abc",
        "month=" + "9" * 50,
        "account_id=0",
        "account_id=-1",
        "account_id=abc",
        "account_id=99999999999999999999",
        "category_id=1.5",
        "deleted=maybe",
        "limit=0",
        "limit=101",
        "cursor=notacursor",
        "cursor=eyJsIjoiY2xhbnMiLCJvIjo1fQ",  # a cursor of another list
    ],
)
def test_bad_list_queries_are_422_problems(client, book, query):
    response = _call(client, "GET", f"{BOOK}/transactions?{query}", book["read"])
    assert response.status_code == 422, response.get_data(True)
    assert response.content_type == PROBLEM


@pytest.mark.parametrize(
    "path",
    [
        "/transactions/2147483648",
        "/transactions/99999999999999999999",
        "/transactions/-1",
        "/transactions/abc",
        "/audit/99999999/undo",
    ],
)
def test_unknown_ids_are_404_problems(client, book, path):
    method = "POST" if path.endswith("/undo") else "GET"
    response = _call(client, method, BOOK + path, book["write"])
    assert response.status_code == 404 and response.content_type == PROBLEM


def test_a_clan_mirror_line_cannot_be_changed_through_the_api(client, book):
    txn = transactions.record(
        db.session,
        book["owner"].id,
        Draft(TxnKind.OPENING, date(2026, 12, 1), book["cash"], 1000),
    )
    txn.kind = TxnKind.CLAN
    db.session.commit()
    url = f"{BOOK}/transactions/{txn.id}"
    shown = _call(client, "GET", url, book["read"]).get_json()
    assert shown["read_only"] is True and shown["amount"] == 1000
    assert _call(client, "DELETE", url, book["write"]).status_code == 409
    assert _call(client, "PUT", url, book["write"], _lunch(book)).status_code in (409, 422)
    assert db.session.get(BookTransaction, txn.id).deleted_at is None


def test_the_token_page_offers_the_personal_scope_off_by_default(client, make_user, login):
    user = make_user()
    login(user)
    page = client.get("/account/tokens").get_data(True)
    assert 'name="personal"' in page and "記帳" in page
    assert (
        'name="personal" checked' not in page
        and "checked" not in page.split('name="personal"')[1][:60]
    )
    client.post("/account/tokens", data={"name": "bot", "scope": "read", "days": "30"})
    client.post(
        "/account/tokens",
        data={"name": "手機記帳", "scope": "write", "days": "30", "personal": "y"},
    )
    made = {t.name: t.personal for t in db.session.query(ApiToken).filter_by(user_id=user.id)}
    assert made == {"bot": False, "手機記帳": True}
    listing = client.get("/account/tokens").get_data(True)
    assert listing.count('<span class="badge text-bg-info">個人記帳</span>') == 1


def test_the_book_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    for path in ("/book/accounts", "/book/categories", "/book/transactions"):
        assert f"/api/v1{path}" in document["paths"]
    one = document["paths"]["/api/v1/book/transactions/{txn_id}"]
    assert set(one) >= {"get", "put", "delete"}
    create = document["paths"]["/api/v1/book/transactions"]["post"]
    assert any(p.get("name") == "Idempotency-Key" for p in create["parameters"])
    schemas = document["components"]["schemas"]
    assert {"amount", "amount_decimal", "splits"} <= set(schemas["NewTransaction"]["properties"])
    assert json.dumps(schemas["BookTransaction"]).count("amount_decimal") == 1


def test_tokens_made_before_the_personal_scope_do_not_have_it(empty_app):  # noqa: F811
    """Upgrading gives every existing token ``personal = false``; a downgrade drops it."""
    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "f2a3b4c5d6e7"]).exit_code == 0
    with empty_app.app_context(), db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO users (id, username, display_name, password_hash, created_at) "
                "VALUES (1, 'wind', '風', 'x', CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO api_tokens (id, user_id, name, token_hash, hint, scope, created_at) "
                "VALUES (1, 1, 'bot', :hash, 'clt_abcd', 'write', CURRENT_TIMESTAMP)"
            ),
            {"hash": "0" * 64},
        )
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with empty_app.app_context(), db.engine.connect() as conn:
        personal = conn.execute(sa.text("SELECT personal FROM api_tokens WHERE id = 1")).scalar()
    assert personal in (False, 0)
    assert runner.invoke(args=["db", "downgrade", "f2a3b4c5d6e7"]).exit_code == 0
    with empty_app.app_context():
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("api_tokens")}
    assert "personal" not in columns
