"""SQLite's write discipline: every transaction starts with BEGIN IMMEDIATE, waiters queue
behind the busy timeout, and a request that still finds the database locked answers 409
with a translated message, never 500."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from clanledger import create_app
from clanledger.extensions import db
from clanledger.services.errors import Conflict, commit_or_conflict, is_lost_race


@pytest.fixture
def sqlite_file(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the SQLite write discipline")
    return db.engine.url.database


def test_a_read_transaction_already_holds_the_write_lock(app, sqlite_file, make_user):
    make_user()
    db.session.execute(sa.text("SELECT count(*) FROM users")).scalar_one()  # reads only
    other = sqlite3.connect(sqlite_file, timeout=0, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        db.session.rollback()
        other.execute("BEGIN IMMEDIATE")  # free again once the transaction ends
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_a_request_that_finds_the_database_locked_answers_409(
    app, sqlite_file, make_user, make_clan
):
    user = make_user()
    clan = make_clan(leader=user)
    clan_id, user_id = clan.id, user.get_id()
    db.session.remove()
    busy = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{sqlite_file}",
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "SQLITE_BUSY_TIMEOUT_MS": 50,
        }
    )
    client = busy.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
    holder = sqlite3.connect(sqlite_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        response = client.get(f"/clans/{clan_id}/")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        with busy.app_context():
            db.engine.dispose()
    assert response.status_code == 409
    assert "有其他人同時修改了這筆資料" in response.get_data(as_text=True)


def test_a_commit_that_cannot_get_the_lock_is_a_conflict():
    locked = OperationalError("COMMIT", {}, sqlite3.OperationalError("database is locked"))
    assert is_lost_race(locked)

    class Session:
        def commit(self):
            raise locked

        def rollback(self):
            self.rolled_back = True

    session = Session()
    with pytest.raises(Conflict, match="sold"):
        commit_or_conflict(session, "sold")  # type: ignore[arg-type]
    assert session.rolled_back
