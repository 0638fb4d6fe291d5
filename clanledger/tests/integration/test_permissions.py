"""Tenant isolation and roles: every route, every method, five visitors.

What each visitor must get, and how other blueprints declare their sample ids, is
documented in ``sweep.py`` next to this file. A route added anywhere in the app is swept
automatically; one the sweep cannot build or has no expectation for fails with a message
naming what to declare.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import sweep
from flask import Flask, g
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from clanledger import create_app
from clanledger.extensions import db
from clanledger.models import Role

# Other blueprints' declarations: every test_*_sweep.py beside this file.
for _path in sorted(Path(__file__).parent.glob("test_*_sweep.py")):
    importlib.import_module(_path.stem)

CLAN_PREFIX = "/clans/<int:clan_id>"


class _Client(FlaskClient):
    """Each request starts with an empty ``g`` (the app context is shared by the module)."""

    def open(self, *args, **kwargs):
        g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture(scope="module")
def app(server_database_url, tmp_path_factory) -> Iterator[Flask]:
    """One database for the whole sweep: every case builds its own pair of clans with
    fresh names, so cases cannot see each other and the schema is made only once."""
    url = server_database_url or f"sqlite:///{tmp_path_factory.mktemp('sweep') / 'sweep.db'}"
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "sweep",
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


def _cases(only_clan_routes_with_ids: bool = False) -> list:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "t"})
    cases = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        is_clan_view = hasattr(app.view_functions[rule.endpoint], "min_role")
        if only_clan_routes_with_ids and (not is_clan_view or set(rule.arguments) == {"clan_id"}):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            cases.append(pytest.param(rule.endpoint, method, id=f"{method} {rule.rule}"))
    return cases


def _rule(app: Flask, endpoint: str) -> Rule:
    return next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)


def _url(app: Flask, rule: Rule, side: sweep.ClanSide, foreign: sweep.ClanSide | None = None):
    """The rule's URL for ``side``'s clan; other ids from ``foreign`` when given."""
    values = {}
    for param in sorted(rule.arguments):
        if param == "clan_id":
            values[param] = side.clan.id
            continue
        builder = sweep.builder_for(param, rule.endpoint)
        if builder is None:
            pytest.fail(
                f"{rule.rule} ({rule.endpoint}): no sample for URL parameter {param!r}. "
                f"Declare one with @sweep.sample({param!r}) in your tests/integration/"
                "test_<area>_sweep.py (see sweep.py)."
            )
        values[param] = builder(foreign or side)
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _expected(endpoint: str, method: str, min_role: Role | None, visitor: str) -> object:
    declared = sweep.expectation_for(endpoint, method) or sweep.Expectation()
    if visitor in declared.statuses:
        return declared.statuses[visitor]
    if min_role is None:
        return None
    ok = declared.ok or (200 if method == "GET" else sweep.POST_OK)
    if visitor == "anonymous":
        return sweep.LOGIN
    if visitor == "outsider":
        return 404
    return ok if Role(visitor).rank >= min_role.rank else 403


def _request(app: Flask, url: str, method: str, user) -> object:
    client = app.test_client()
    if user is not None:
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
    response = client.open(url, method=method)
    response.get_data()
    response.close()  # static files hold an open file until closed
    return response


def _matches(response, expected: object) -> bool:
    if expected == sweep.LOGIN:
        return response.status_code == 302 and "/auth/login" in response.headers["Location"]
    if isinstance(expected, frozenset):
        return response.status_code in expected
    return response.status_code == expected


def _check_declared(rule: Rule, method: str, min_role: Role | None) -> None:
    if rule.rule.startswith(CLAN_PREFIX) and min_role is None:
        pytest.fail(
            f"{method} {rule.rule} ({rule.endpoint}) is under {CLAN_PREFIX} but not a "
            "@clan_view(...) view: decorate it so login, membership and role are checked."
        )
    if min_role is None:
        missing = [v for v in sweep.VISITORS if _expected(rule.endpoint, method, None, v) is None]
        if missing:
            pytest.fail(
                f"{method} {rule.rule} ({rule.endpoint}) has no declared expectation for "
                f"{', '.join(missing)}. Add sweep.expect({rule.endpoint!r}, ...) in your "
                "tests/integration/test_<area>_sweep.py (see sweep.py)."
            )


@pytest.mark.parametrize(("endpoint", "method"), _cases())
def test_route_answers_each_visitor_as_declared(app: Flask, endpoint: str, method: str) -> None:
    if endpoint in sweep.SKIPPED:
        pytest.skip(sweep.SKIPPED[endpoint])
    rule = _rule(app, endpoint)
    min_role = getattr(app.view_functions[endpoint], "min_role", None)
    _check_declared(rule, method, min_role)
    failures = []
    shared = sweep.build_world() if method == "GET" else None
    for visitor in sweep.VISITORS:
        # A POST may change what the next visitor sees: each gets a fresh pair of clans.
        world = shared or sweep.build_world()
        url = _url(app, rule, world.home)
        expected = _expected(endpoint, method, min_role, visitor)
        response = _request(app, url, method, world.user_for(visitor))
        if not _matches(response, expected):
            failures.append(f"{visitor:>9}: got {response.status_code}, expected {expected}")
        elif response.status_code == 404 and world.home.clan.name in response.get_data(True):
            failures.append(f"{visitor:>9}: the 404 page shows the clan's name")
    assert not failures, f"{method} {rule.rule}:\n" + "\n".join(failures)


@pytest.mark.parametrize(("endpoint", "method"), _cases(only_clan_routes_with_ids=True))
def test_ids_of_another_clan_answer_404(app: Flask, endpoint: str, method: str) -> None:
    """The clan's own leader, with another clan's kill/member/character ids in the URL."""
    rule = _rule(app, endpoint)
    world = sweep.build_world()
    url = _url(app, rule, world.home, foreign=world.away)
    response = _request(app, url, method, world.home.leader)
    assert response.status_code == 404, f"{method} {url}: got {response.status_code}"


def test_the_sweep_refuses_routes_it_cannot_judge() -> None:
    """A clan route without @clan_view, a page with no declared expectation and a URL
    parameter with no sample each stop the sweep with a message saying what to add."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "t"})
    app.add_url_rule("/clans/<int:clan_id>/naked", "naked", lambda clan_id: "")
    app.add_url_rule("/undeclared", "undeclared", lambda: "")
    app.add_url_rule("/clans/<int:clan_id>/things/<int:thing_id>", "thing", lambda **kw: "")
    app.view_functions["thing"].min_role = Role.MEMBER
    with pytest.raises(pytest.fail.Exception, match="not a @clan_view"):
        _check_declared(_rule(app, "naked"), "GET", None)
    with pytest.raises(pytest.fail.Exception, match=r"no declared expectation.*sweep.expect"):
        _check_declared(_rule(app, "undeclared"), "GET", None)
    with app.app_context(), pytest.raises(pytest.fail.Exception, match=r"no sample.*'thing_id'"):
        _url(app, _rule(app, "thing"), sweep.ClanSide(SimpleNamespace(id=1), None, None, None))
