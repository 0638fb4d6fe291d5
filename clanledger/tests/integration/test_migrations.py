"""Alembic: ``flask db upgrade`` on an empty database gives exactly the models' schema, and
``downgrade base`` removes it again (on SQLite and, with TEST_DATABASE_URL, PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from clanledger import create_app
from clanledger.extensions import MIGRATIONS_DIR, db
from clanledger.services.wallets import wallet_map


@pytest.fixture
def empty_app(tmp_path) -> Iterator[Flask]:
    """An app on a database with no tables at all (its own schema on PostgreSQL)."""
    url = os.environ.get("TEST_DATABASE_URL")
    schema = None
    if url and url.startswith("postgresql"):
        schema = f"migrations_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(url)
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        url = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t"})
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()
        if schema:
            with admin.begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


def _schema_differences(app: Flask) -> list:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def _tables(app: Flask) -> set[str]:
    with app.app_context():
        return set(sa.inspect(db.engine).get_table_names())


def test_upgrade_from_empty_gives_exactly_the_models_schema(empty_app: Flask) -> None:
    assert _tables(empty_app) == set()
    result = empty_app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert _tables(empty_app) == set(db.metadata.tables) | {"alembic_version"}
    differences = _schema_differences(empty_app)
    assert differences == [], (
        "the migrations and the models differ; add a revision with "
        "`flask --app clanledger db migrate -m ...` and review it:\n"
        + "\n".join(map(str, differences))
    )


def test_downgrade_to_base_removes_every_table(empty_app: Flask) -> None:
    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["db", "downgrade", "base"])
    assert result.exit_code == 0, result.output
    assert _tables(empty_app) == {"alembic_version"}


def test_migrations_form_one_line_of_history() -> None:
    """Revisions added at the same time must be merged: exactly one head."""
    heads = ScriptDirectory(str(MIGRATIONS_DIR)).get_heads()
    assert len(heads) == 1, f"several heads {heads}: run `flask --app clanledger db merge heads`"


def test_characters_made_before_wallets_each_keep_a_wallet_of_their_own(empty_app: Flask) -> None:
    """Upgrading a database with characters gives each an empty wallet (its own), so the
    plan of every existing month stays exactly what it was; downgrading drops the column."""
    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "b3c1d2e4f5a6"]).exit_code == 0
    with empty_app.app_context(), db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO users (id, username, display_name, password_hash, created_at) "
                "VALUES (1, 'wind', '風', 'x', CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO clans (id, name, server, timezone, fee_policy, settlement_period, "
                "carry_threshold, caller_bonus, checkin_window_minutes, rollcall_lock_minutes, "
                "invite_code, created_at) VALUES (1, '血盟', '肯特01', 'Asia/Taipei', 'payer', "
                "'monthly', 0, '0', 30, 120, 'MIGRATE1', CURRENT_TIMESTAMP)"
            )
        )
        for cid, name in ((1, "夜風"), (2, "夜風二號")):
            conn.execute(
                sa.text(
                    "INSERT INTO characters (id, clan_id, user_id, name, char_class, active, "
                    "created_at) VALUES (:id, 1, 1, :name, '騎士', TRUE, CURRENT_TIMESTAMP)"
                ),
                {"id": cid, "name": name},
            )
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with empty_app.app_context():
        rows = db.session.execute(
            sa.text("SELECT id, wallet_character_id FROM characters ORDER BY id")
        ).all()
        assert [tuple(r) for r in rows] == [(1, None), (2, None)]
        assert wallet_map(db.session, 1) == {}
        db.session.remove()
        with db.engine.begin() as conn:  # a wallet points at a lower id, never ahead
            conn.execute(sa.text("UPDATE characters SET wallet_character_id = 1 WHERE id = 2"))
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE characters SET wallet_character_id = 2 WHERE id = 1"))
    assert runner.invoke(args=["db", "downgrade", "b3c1d2e4f5a6"]).exit_code == 0
    with empty_app.app_context():
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("characters")}
    assert "wallet_character_id" not in columns
