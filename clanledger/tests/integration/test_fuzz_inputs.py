"""No input makes the app answer 5xx: oversized ids, garbage query strings, malformed forms.

Every registered route is requested with the permission sweep's sample ids (``sweep.py``),
then with each variant below, as the clan's member and leader (anonymous visitors are sent
to the sign-in page before any input is read). Runs on SQLite and, in CI, on PostgreSQL,
where an id beyond the column's range would be a database error.
"""

from __future__ import annotations

import re

import pytest
import sweep
import test_permissions
from flask import Flask
from flask_wtf import FlaskForm
from test_permissions import _cases, _rule, _url

from clanledger.web import forms as _forms  # noqa: F401 (registers the shared forms)

HUGE_IDS = (2**31, 2**63, 10**30)
GARBAGE_QUERIES = (
    "page=99999999999999999999",
    "page=-5&month=9999-99&status=%00&q=" + "x" * 3000,
    "page=abc&month=0000-00&day=-1&character=2147483648&holder=18446744073709551616",
    "month=2026-13&from=0001-01-01&to=9999-12-31&sort=%27%3B--&format=%FF",
    "period=2147483648&character=99999999999999999999&type=%00",
    "period=-1&character=abc&show=all&code=%FF%FE",
    "state=%FF&mine=2&q=%25_%5C%27%22&type=" + "X" * 500,
    "q=%23&state=all&period=0&page=0",
    "q=%2399999999999999999999&type=Drop&mine=1",
    "year=99999999999999999999&month=-1",
    "year=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%95&month=2026-00",
)
GARBAGE_VALUES = (
    "sNaN",
    "NaN",
    "-inf",
    "1e309",
    "-1",
    "2147483648",
    "99999999999999999999999",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "\x00",
    "x" * 5000,
    "‮Bob​",
)


def _field_names() -> set[str]:
    """Every field name of every WTForms form the app defines."""
    names, stack = set(), list(FlaskForm.__subclasses__())
    while stack:
        form = stack.pop()
        stack.extend(form.__subclasses__())
        if form.__module__.startswith("clanledger."):
            names.update(name for name, _ in form._unbound_fields or [])
            names.update(k for k, v in vars(form).items() if hasattr(v, "field_class"))
    return names


def _swap_ids(url: str, value: int) -> list[str]:
    """``url`` with each numeric path segment in turn replaced by ``value``."""
    parts = url.split("/")
    return [
        "/".join([*parts[:i], str(value), *parts[i + 1 :]])
        for i, part in enumerate(parts)
        if re.fullmatch(r"\d+", part)
    ]


def _fuzz(app: Flask, endpoint: str, method: str) -> list[str]:
    rule = _rule(app, endpoint)
    world = sweep.build_world()
    url = _url(app, rule, world.home)
    users = (world.home.member, world.home.leader)
    failures = []

    def check(target: str, user, data=None) -> None:
        client = app.test_client()
        if user is not None:
            with client.session_transaction() as session:
                session["_user_id"] = user.get_id()
                session["_fresh"] = True
        response = client.open(target, method=method, data=data)
        response.get_data()
        response.close()
        if response.status_code >= 500:
            shown = (data and next(iter(data.values()))[:20]) or ""
            failures.append(f"{method} {target[:120]} {shown!r}: {response.status_code}")

    for huge in HUGE_IDS:
        for target in _swap_ids(url, huge):
            check(target, world.home.leader)
    for query in GARBAGE_QUERIES:
        for user in users:
            check(f"{url}?{query}", user)
    if method == "POST":
        fields = _field_names()
        for value in GARBAGE_VALUES:
            for user in users:
                check(url, user, dict.fromkeys(fields, value))
    return failures


app = test_permissions.app  # the sweep's module-scoped app: one database for every case


@pytest.mark.parametrize(("endpoint", "method"), _cases())
def test_no_input_gets_a_server_error(app: Flask, endpoint: str, method: str) -> None:
    if endpoint in sweep.SKIPPED or endpoint in ("static", "bootstrap.static"):
        pytest.skip("static files read no input")
    failures = _fuzz(app, endpoint, method)
    assert not failures, "\n".join(failures)
