"""The personal book is private to its owner: no clan role, no other user and no token
without the personal scope ever reaches a row of it.

Every route of the ``book`` blueprint and every ``/api/v1/book`` route is read from
``app.url_map``, so a route added later is checked too. Each URL parameter is filled with a
real row of the owner (:data:`BUILDERS`); a parameter nobody builds fails the test with what
to add. The owner is a member of a clan: its leader and an officer, and a user outside it,
get 404 for every id of the owner's, on the pages and through the API.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from datetime import date
from types import SimpleNamespace

import pytest
import sweep
from flask import Flask, g
from flask.testing import FlaskClient
from werkzeug.routing import Map, Rule

from clanledger import create_app
from clanledger.domain.book.kinds import Frequency, TxnKind
from clanledger.extensions import db
from clanledger.models import AuditLog, Boss
from clanledger.models.book import (
    BookAudit,
    BookBudget,
    BookImport,
    BookRecurring,
    BookTransaction,
)
from clanledger.services import api_tokens
from clanledger.services.book import accounts, categories, transactions
from clanledger.web.book.common import book_view

SECRET = "私房錢"  # in the owner's account names and payees: no one else may see it
API_PREFIX = "/api/v1/book"
_n = itertools.count(1)


class _Client(FlaskClient):
    """Each request starts with an empty ``g`` (the app context is shared by the module)."""

    def open(self, *args, **kwargs):
        g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture(scope="module")
def app(server_database_url, tmp_path_factory) -> Iterator[Flask]:
    url = server_database_url or f"sqlite:///{tmp_path_factory.mktemp('priv') / 'book.db'}"
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "privacy",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    app.test_client_class = _Client
    with app.app_context():
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(scope="module")
def world(app: Flask) -> dict:
    """The owner is a plain member of a clan; its leader and officer, and the member of
    another clan, are the ones who must not see the owner's book. Each has a personal
    read-write token; the owner also has one without the personal scope."""
    built = sweep.build_world()
    people = {
        "owner": built.home.member,
        "leader": built.home.leader,
        "officer": built.home.officer,
        "other": built.away.member,
    }
    tokens = {
        name: api_tokens.create_token(db.session, user.id, "t", "write", None, True)[1]
        for name, user in people.items()
    }
    tokens["owner_without_scope"] = api_tokens.create_token(
        db.session, people["owner"].id, "clan bot", "write", None, False
    )[1]
    for user in people.values():
        accounts.ensure_book(db.session, user.id)
    owner = people["owner"].id
    accounts.create_account(db.session, owner, f"{SECRET}帳戶", "bank", "TWD")
    _a_transaction(owner)
    return {"people": people, "tokens": tokens, "clan": built.home.clan}


# ------------------------------------------------------------- the owner's rows


def _cash(owner: int) -> int:
    return accounts.list_accounts(db.session, owner)[0].id


def _a_transaction(owner: int):
    lunch = categories.by_code(db.session, owner, "lunch")
    draft = transactions.Draft(
        TxnKind.EXPENSE,
        date(2026, 12, 1),
        _cash(owner),
        120,
        category_id=lunch.id,
        payee=f"{SECRET}午餐",
    )
    return transactions.record(db.session, owner, draft)


def _added(row) -> int:
    db.session.add(row)
    db.session.commit()
    return row.id


def _an_account(owner: int) -> int:
    name = f"{SECRET}{next(_n)}"
    return accounts.create_account(db.session, owner, name, "e_wallet", "TWD").id


def _a_category(owner: int) -> int:
    return categories.create_category(db.session, owner, f"{SECRET}{next(_n)}", "expense", None).id


def _a_deletion(owner: int) -> int:
    return transactions.delete(db.session, owner, _a_transaction(owner).id).id


def _a_rule(owner: int) -> int:
    rent = categories.by_code(db.session, owner, "rent")
    return _added(
        BookRecurring(
            user_id=owner,
            name=f"{SECRET}房租",
            kind=TxnKind.EXPENSE,
            amount=12000,
            account_id=_cash(owner),
            category_id=rent.id,
            frequency=Frequency.MONTHLY,
            every=1,
            day=5,
            starts_on=date(2026, 1, 5),
            next_on=date(2027, 1, 5),
        )
    )


def _a_budget(owner: int) -> int:
    food = categories.by_code(db.session, owner, "food")
    return _added(BookBudget(user_id=owner, category_id=food.id, amount=6000, currency="TWD"))


def _an_import(owner: int) -> int:
    return _added(BookImport(user_id=owner, source="csv", filename=f"{SECRET}.csv", rows_read=1))


BUILDERS: dict[str, Callable[[int], int]] = {
    "account_id": _an_account,
    "category_id": _a_category,
    "txn_id": lambda owner: _a_transaction(owner).id,
    "audit_id": _a_deletion,
    "rule_id": _a_rule,
    "budget_id": _a_budget,
    "import_id": _an_import,
}


# ------------------------------------------------------------- the routes


def _rules(app: Flask, which: Callable[[Rule], bool]) -> list:
    return [
        pytest.param(rule.endpoint, method, id=f"{method} {rule.rule}")
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
        if which(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


def _all_rules() -> tuple[list, list]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "t"})
    pages = _rules(app, lambda rule: rule.endpoint.startswith("book."))
    api = _rules(app, lambda rule: rule.rule.startswith(API_PREFIX + "/"))
    return pages, api


PAGES, API = _all_rules()


def _rule(app: Flask, endpoint: str) -> Rule:
    return next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)


def _url(app: Flask, rule: Rule, owner: int) -> str:
    """The rule's URL with a fresh row of the owner for each parameter."""
    values = {}
    for param in sorted(rule.arguments):
        builder = BUILDERS.get(param)
        if builder is None:
            pytest.fail(
                f"{rule.rule} ({rule.endpoint}): no builder for URL parameter {param!r}. "
                f"Add one to BUILDERS in tests/integration/test_book_privacy.py that makes a "
                f"real row of the owner and returns its id (or use one of {sorted(BUILDERS)})."
            )
        values[param] = builder(owner)
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _page(app: Flask, url: str, method: str, user) -> object:
    client = app.test_client()
    if user is not None:
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
    response = client.open(url, method=method)
    response.get_data()
    return response


def _api(app: Flask, url: str, method: str, secret: str | None) -> object:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return app.test_client().open(url, method=method, headers=headers, json=body)


def _trail(owner: int) -> int:
    return db.session.query(BookAudit).filter_by(user_id=owner).count()


def _page_failures(app: Flask, world: dict, endpoint: str, method: str) -> list[str]:
    """What goes wrong on one book page: anyone but the owner reaching an id of the
    owner's, seeing the owner's rows, or changing the owner's book."""
    rule = _rule(app, endpoint)
    if not getattr(app.view_functions[endpoint], "personal", False):
        return [f"{endpoint}: decorate the view with @book_view (clanledger.web.book.common)"]
    owner = world["people"]["owner"]
    url = _url(app, rule, owner.id)
    failures = []
    anonymous = _page(app, url, method, None)
    if anonymous.status_code != 302 or "/auth/login" not in anonymous.headers["Location"]:
        failures.append(f"anonymous: got {anonymous.status_code}, expected the sign-in page")
    trail = _trail(owner.id)
    for name in ("leader", "officer", "other"):
        response = _page(app, url, method, world["people"][name])
        if rule.arguments and response.status_code != 404:
            failures.append(f"{name}: got {response.status_code}, expected 404")
        if response.status_code >= 500 or SECRET.encode() in response.get_data():
            failures.append(f"{name}: got {response.status_code}, or saw the owner's rows")
    if _trail(owner.id) != trail:
        failures.append("someone else's request changed the owner's book")
    mine = _page(app, url, method, owner)
    if mine.status_code == 404 or mine.status_code >= 500:
        failures.append(f"owner: got {mine.status_code}")
    return [f"{method} {url}: {failure}" for failure in failures]


@pytest.mark.parametrize(("endpoint", "method"), PAGES)
def test_no_one_but_the_owner_reaches_a_book_page(app, world, endpoint, method):
    failures = _page_failures(app, world, endpoint, method)
    assert not failures, "\n".join(failures)


def test_a_page_that_forgets_the_owner_check_is_caught(app, world):
    """A page that reads a transaction by id alone: the check above fails on it."""
    leaky = create_app(
        {**app.config, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}
    )
    leaky.test_client_class = _Client

    @book_view
    def leak(txn_id: int) -> str:
        return db.session.get(BookTransaction, txn_id).payee

    leaky.add_url_rule("/book/leak/<int:txn_id>", "book.leak", leak)
    leaky.add_url_rule("/book/naked", "book.naked", lambda: "")
    keys = {name: (user.id, user.get_id()) for name, user in world["people"].items()}
    people = {
        name: SimpleNamespace(id=user_id, get_id=functools.partial(str, key))
        for name, (user_id, key) in keys.items()
    }
    db.session.commit()  # SQLite: no read of this app's session may hold the file
    with leaky.app_context():
        try:
            failures = _page_failures(leaky, {"people": people}, "book.leak", "GET")
            naked = _page_failures(leaky, {"people": people}, "book.naked", "GET")
        finally:
            db.session.remove()
            db.engine.dispose()
    for name in ("leader", "officer", "other"):
        assert any(f"{name}: got 200, expected 404" in f for f in failures), failures
    assert any("@book_view" in f for f in naked)


@pytest.mark.parametrize(("endpoint", "method"), API)
def test_the_books_api_answers_only_the_owners_personal_token(app, world, endpoint, method):
    rule = _rule(app, endpoint)
    owner, tokens = world["people"]["owner"], world["tokens"]
    url = _url(app, rule, owner.id)
    assert _api(app, url, method, None).status_code == 401
    trail = _trail(owner.id)
    hidden = _api(app, url, method, tokens["owner_without_scope"])
    assert hidden.status_code == 404, f"a token without the personal scope: {hidden.status_code}"
    assert hidden.content_type == "application/problem+json"
    for name in ("leader", "officer", "other"):
        response = _api(app, url, method, tokens[name])
        assert SECRET.encode() not in response.get_data(), f"{name} saw the owner's rows at {url}"
        assert response.status_code < 500
        if rule.arguments:
            assert response.status_code == 404, f"{name}: {method} {url} {response.status_code}"
        elif method == "GET":
            assert response.status_code == 200
    assert _trail(owner.id) == trail, "someone else's request changed the owner's book"
    mine = _api(app, url, method, tokens["owner"])
    if method == "GET":
        assert mine.status_code == 200, mine.get_data(True)
    assert mine.status_code != 404 and mine.status_code < 500, (url, mine.status_code)


def test_a_route_with_an_unknown_parameter_stops_with_what_to_add(app):
    fake = Rule("/book/things/<int:thing_id>", endpoint="book.thing")
    Map([fake])  # binding the rule reads its arguments
    with pytest.raises(pytest.fail.Exception, match=r"no builder.*'thing_id'.*BUILDERS"):
        _url(app, fake, 1)


def test_the_sweep_found_the_books_routes():
    assert ("book.home", "GET") in {tuple(p.values) for p in PAGES}
    found = {tuple(p.values) for p in API}
    assert {("api.book_transaction", "GET"), ("api.book_transaction_create", "POST")} <= found


def test_no_book_table_has_a_clan_id():
    tables = [t for name, t in db.metadata.tables.items() if name.startswith("book_")]
    assert len(tables) >= 8
    for table in tables:
        assert "clan_id" not in table.columns, f"{table.name} must not carry a clan_id"
        assert "user_id" in table.columns, f"{table.name} must carry its owner's user_id"


def test_changing_the_book_writes_nothing_to_the_clan_audit_log(app, world):
    owner, clan = world["people"]["owner"].id, world["clan"]
    before = db.session.query(AuditLog).count()
    account = _an_account(owner)
    accounts.update_account(db.session, owner, account, f"{SECRET}改名")
    _a_category(owner)
    txn = _a_transaction(owner)
    audit_id = transactions.delete(db.session, owner, txn.id).id
    transactions.undo(db.session, owner, audit_id)
    _a_rule(owner), _a_budget(owner), _an_import(owner)
    url = f"{API_PREFIX}/transactions"
    lunch = categories.by_code(db.session, owner, "lunch").id
    body = {"kind": "expense", "account_id": _cash(owner), "amount": 50, "category_id": lunch}
    headers = {"Authorization": f"Bearer {world['tokens']['owner']}"}
    assert app.test_client().post(url, json=body, headers=headers).status_code == 201
    assert db.session.query(AuditLog).count() == before
    db.session.add(Boss(clan_id=clan.id, name=f"boss{next(_n)}"))  # a clan change is logged
    db.session.commit()
    assert db.session.query(AuditLog).count() > before
