"""Shared fixtures. ``TEST_DATABASE_URL`` switches the whole suite to another database
(PostgreSQL in CI); without it each test gets a fresh SQLite file.

Factories build rows directly (fast, no HTTP); ``login`` signs a user into the test client.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient

from clanledger import create_app
from clanledger.extensions import db
from clanledger.models import Character, Clan, ClanRate, Membership, RateKind, Role, User

# Cheap hashing keeps the suite fast; production uses scrypt.
TEST_PASSWORD = "correct horse 42"
_counter = itertools.count(1)


@pytest.fixture(scope="session")
def server_database_url() -> Iterator[str | None]:
    """``TEST_DATABASE_URL`` narrowed to a schema of this test process's own, so parallel
    runs against one PostgreSQL database never see each other's rows; dropped at the end."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        yield url
        return
    schema = f"pytest_{os.getpid()}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in url else "?"
    yield f"{url}{separator}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


def _sqlite_without_fsync(dbapi_connection, connection_record) -> None:
    """A throwaway test database needs no durability: skipping fsync makes the schema
    setup of each test about 15 times faster on a busy disk."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA journal_mode=MEMORY")
    cursor.close()


class FreshGlobalsClient(FlaskClient):
    """Requests reuse the fixture's app context, so ``g`` would carry the previous request's
    signed-in user (Flask-Login caches it there) and clan; start each request clean."""

    def open(self, *args, **kwargs):
        if has_app_context():
            g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture
def app(tmp_path, server_database_url) -> Iterator[Flask]:
    url = server_database_url or f"sqlite:///{tmp_path / 'test.sqlite3'}"
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
            "RATELIMIT_ENABLED": False,
        }
    )
    app.test_client_class = FreshGlobalsClient
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            sa.event.listen(db.engine, "connect", _sqlite_without_fsync)
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def user_password() -> str:
    """The password of every user made by ``make_user``."""
    return TEST_PASSWORD


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    from werkzeug.security import generate_password_hash

    hashed = generate_password_hash(TEST_PASSWORD, method="pbkdf2:sha256:1")

    def make(username: str | None = None, **fields) -> User:
        username = username or f"user{next(_counter)}"
        user = User(
            username=username,
            display_name=fields.pop("display_name", username),
            password_hash=hashed,
            **fields,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_clan(app: Flask, make_user) -> Callable[..., Clan]:
    """A clan led by ``leader`` (made if not given), with a 5 % exchange fee and a 10 %
    fund cut in force from 2026-01-01, unless overridden."""

    def make(
        leader: User | None = None,
        fee_bps: int = 500,
        fund_bps: int = 1000,
        rates_from: date = date(2026, 1, 1),
        **fields,
    ) -> Clan:
        leader = leader or make_user()
        n = next(_counter)
        clan = Clan(
            name=fields.pop("name", f"血盟{n}"),
            server=fields.pop("server", "肯特01"),
            invite_code=fields.pop("invite_code", f"INV{n:05d}"),
            **fields,
        )
        db.session.add(clan)
        db.session.flush()
        db.session.add_all(
            [
                Membership(clan_id=clan.id, user_id=leader.id, role=Role.LEADER, status="active"),
                ClanRate(
                    clan_id=clan.id,
                    kind=RateKind.EXCHANGE_FEE,
                    bps=fee_bps,
                    effective_from=rates_from,
                ),
                ClanRate(
                    clan_id=clan.id, kind=RateKind.FUND_CUT, bps=fund_bps, effective_from=rates_from
                ),
            ]
        )
        db.session.commit()
        return clan

    return make


@pytest.fixture
def add_member(app: Flask) -> Callable[..., Membership]:
    def add(clan: Clan, user: User, role: Role = Role.MEMBER, status: str = "active"):
        membership = Membership(clan_id=clan.id, user_id=user.id, role=role, status=status)
        db.session.add(membership)
        db.session.commit()
        return membership

    return add


@pytest.fixture
def make_character(app: Flask) -> Callable[..., Character]:
    def make(
        clan: Clan, user: User | None = None, name: str | None = None, char_class: str = "騎士"
    ) -> Character:
        character = Character(
            clan_id=clan.id,
            user_id=user.id if user else None,
            name=name or f"角色{next(_counter)}",
            char_class=char_class,
        )
        db.session.add(character)
        db.session.commit()
        return character

    return make


@pytest.fixture
def login(client: FlaskClient) -> Callable[[User], FlaskClient]:
    """Sign ``user`` into the test client without going through the login form."""

    def sign_in(user: User) -> FlaskClient:
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return client

    return sign_in
