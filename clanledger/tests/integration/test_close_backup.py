"""Backup and restore: the round trip is exact, row for row, audit log included, from the
test database into SQLite, and from SQLite into PostgreSQL when TEST_DATABASE_URL is one."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy.engine import make_url
from test_close_month import month

from clanledger import create_app
from clanledger.extensions import db
from clanledger.models import Boss
from clanledger.services import backup, close, transfers
from clanledger.services.journal import member_balances

__all__ = ["month"]


@contextmanager
def fresh_app(url: str):
    """Another app on an empty database at ``url``."""
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t"})
    with other.app_context():
        db.drop_all()
        db.create_all()
        try:
            yield other
        finally:
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def restore_and_read_back(url: str, data: dict, clan_id: int) -> tuple[dict, dict]:
    with fresh_app(url):
        assert backup.restore_clan(db.session.connection(), data) == clan_id
        db.session.commit()
        again = backup.backup_clan(db.session.connection(), clan_id)
        balances = member_balances(db.session, clan_id)
        # The restored database keeps working: new rows get fresh ids.
        db.session.add(Boss(clan_id=clan_id, name="new boss after restore"))
        db.session.commit()
        return again, balances


def postgres_restore_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return None
    parsed = make_url(url)
    target = f"{parsed.database}_restore"
    plain = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{target}"')
    return parsed.set(database=target).render_as_string(hide_password=False)


def test_backup_restore_round_trip_is_exact(month, tmp_path):
    clan, officer, period = month["clan"], month["officer"], month["period"]
    close.confirm_close(db.session, officer.id, clan.id, period.id)
    paid = transfers.list_transfers(db.session, officer.id, clan.id)[0].transfer
    transfers.confirm_received(db.session, officer.id, clan.id, paid.id, "seen in game")
    clan.treasurer_character_id = month["ids"]["A"]
    db.session.commit()

    data = backup.backup_clan(db.session.connection(), clan.id)
    path = tmp_path / "clan.json"
    backup.write_backup(data, path)
    data = backup.read_backup(path)  # what the file holds, not what was in memory
    assert len(data["tables"]["audit_log"]["rows"]) > 20
    balances = member_balances(db.session, clan.id)

    via_sqlite, sqlite_balances = restore_and_read_back(
        f"sqlite:///{tmp_path / 'restored.sqlite3'}", data, clan.id
    )
    assert via_sqlite == data
    assert sqlite_balances == balances

    pg = postgres_restore_url()
    if pg is not None:  # SQLite -> PostgreSQL
        via_pg, pg_balances = restore_and_read_back(pg, via_sqlite, clan.id)
        assert via_pg == data
        assert pg_balances == balances


def test_restore_refuses_bad_files_and_a_non_empty_database(month, tmp_path):
    clan = month["clan"]
    data = backup.backup_clan(db.session.connection(), clan.id)
    with pytest.raises(backup.BackupError, match="empty database"):
        backup.restore_clan(db.session.connection(), data)
    db.session.rollback()
    with pytest.raises(backup.BackupError, match="not a clanledger-backup"):
        backup.restore_clan(db.session.connection(), {"format": "x"})
    broken = json.loads(json.dumps(data))
    broken["tables"]["kills"]["columns"] = broken["tables"]["kills"]["columns"][:-1]
    with fresh_app(f"sqlite:///{tmp_path / 'empty.sqlite3'}"):
        with pytest.raises(backup.BackupError, match="table kills"):
            backup.restore_clan(db.session.connection(), broken)
        db.session.rollback()
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": ', "utf-8")
    with pytest.raises(backup.BackupError, match="line 1"):
        backup.read_backup(bad)
    with pytest.raises(backup.BackupError, match="no clan"):
        backup.backup_clan(db.session.connection(), 999_999)


def test_cli_backup_and_restore(app, month, tmp_path):
    clan = month["clan"]
    out = tmp_path / "cli.json"
    result = app.test_cli_runner().invoke(
        args=["backup", "--clan", str(clan.id), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert f"clan {clan.id}" in result.output and out.exists()
    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
            "SECRET_KEY": "t",
        }
    )
    with other.app_context():  # the commands run on the app whose context is current
        result = other.test_cli_runner().invoke(args=["restore", str(out)])
        assert result.exit_code == 0, result.output
        assert backup.backup_clan(db.session.connection(), clan.id) == json.loads(
            out.read_text("utf-8")
        )
        db.session.rollback()  # on SQLite an open transaction holds the write lock
        again = other.test_cli_runner().invoke(args=["restore", str(out)])
        assert again.exit_code != 0 and "empty database" in again.output
        db.session.remove()
        db.engine.dispose()
