"""Full JSON backup of one clan, and its restore into an empty database (SQLite or
PostgreSQL).

The backup holds every row the clan owns, table by table, with its primary key: the clan,
its dated rates, memberships, characters, bosses, kills, attendance, drops, sales, periods,
journal entries, postings, transfers and the whole audit log, plus the users who are members
or appear as actors (with their password hashes, so they can sign in after a restore).
One-time password-reset links are left out: they are short-lived secrets.

Values are written in a portable form (ISO dates and times in UTC, weights as ``"n/d"``,
JSON columns as JSON) and read back through the same column types, so a restore gives the
very same rows. Rows are inserted with SQL Core, not the ORM: a restore is not a change
made by anyone and writes no audit rows of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, Table, func, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.types import Date

from clanledger.extensions import db
from clanledger.models.types import FractionType, UTCDateTime

FORMAT = "clanledger-backup"
VERSION = 1
# Tables backed up, parents first; each row belongs to the clan through ``clan_id``.
CLAN_TABLES = (
    "clan_rates",
    "memberships",
    "characters",
    "bosses",
    "kills",
    "attendance",
    "drops",
    "periods",
    "journal_entries",
    "postings",
    "sales",
    "transfers",
    "audit_log",
)
USER_COLUMNS = ("user_id", "actor_id", "created_by_id", "closed_by_id")


class BackupError(ValueError):
    """A backup file that cannot be restored; the message says why and what to do."""


def _tables() -> dict[str, Table]:
    return dict(db.metadata.tables)


def _encode(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, UTCDateTime) or isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Fraction):
        return str(value)
    if hasattr(value, "value") and not isinstance(value, int | str):  # enums
        return value.value
    return value


def _decode(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, UTCDateTime):
        return datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    if isinstance(column.type, FractionType):
        return Fraction(value)
    return value


def _rows(connection: Connection, table: Table, where: Any) -> list[list[Any]]:
    query = select(table).where(where).order_by(*table.primary_key.columns)
    return [
        [_encode(column, value) for column, value in zip(table.columns, row, strict=True)]
        for row in connection.execute(query)
    ]


def backup_clan(connection: Connection, clan_id: int) -> dict[str, Any]:
    """Every row of the clan, as a JSON-ready dict.

    Raises:
        BackupError: the clan does not exist.
    """
    tables = _tables()
    clans = tables["clans"]
    data: dict[str, Any] = {"format": FORMAT, "version": VERSION, "clan_id": clan_id}
    content = {"clans": _rows(connection, clans, clans.c.id == clan_id)}
    if not content["clans"]:
        raise BackupError(f"there is no clan with id {clan_id}")
    for name in CLAN_TABLES:
        table = tables[name]
        content[name] = _rows(connection, table, table.c.clan_id == clan_id)
    users = _user_ids(tables, content)
    content = {"users": _rows(connection, tables["users"], tables["users"].c.id.in_(users))} | (
        content
    )
    data["tables"] = {
        name: {"columns": [c.name for c in tables[name].columns], "rows": rows}
        for name, rows in content.items()
    }
    return data


def _user_ids(tables: dict[str, Table], content: dict[str, list[list[Any]]]) -> set[int]:
    ids: set[int] = set()
    for name, rows in content.items():
        columns = [c.name for c in tables[name].columns]
        for index, column in enumerate(columns):
            if column in USER_COLUMNS:
                ids.update(row[index] for row in rows if row[index] is not None)
    return ids


def restore_clan(connection: Connection, data: dict[str, Any]) -> int:
    """Insert a backup into an empty database and return the clan id.

    Raises:
        BackupError: not a clanledger backup, another version, columns that do not match
            this schema, or a database that already holds clans or users.
    """
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise BackupError(
            f"not a {FORMAT} version {VERSION} file (found format={data.get('format')!r}, "
            f"version={data.get('version')!r})"
        )
    tables = _tables()
    for name in ("clans", "users"):
        if connection.execute(select(func.count()).select_from(tables[name])).scalar_one():
            raise BackupError(
                f"the database already has rows in {name}; restore into an empty database "
                "(run `flask db upgrade` on a new one first)"
            )
    content = data.get("tables", {})
    treasurers: list[tuple[int, Any]] = []
    for name in ("users", "clans", *CLAN_TABLES):
        table = tables[name]
        block = content.get(name, {"columns": [], "rows": []})
        rows = _decode_rows(table, name, block["columns"], block["rows"])
        if name == "clans":  # the treasurer is a character: set it once characters exist
            treasurers = [(r["id"], r["treasurer_character_id"]) for r in rows]
            rows = [r | {"treasurer_character_id": None} for r in rows]
        if rows:
            connection.execute(table.insert(), rows)
    for clan_id, character_id in treasurers:
        if character_id is not None:
            clans = tables["clans"]
            connection.execute(
                update(clans)
                .where(clans.c.id == clan_id)
                .values(treasurer_character_id=character_id)
            )
    _reset_sequences(connection, tables)
    return int(data["clan_id"])


def _decode_rows(
    table: Table, name: str, columns: list[str], rows: Iterable[list[Any]]
) -> list[dict[str, Any]]:
    expected = [c.name for c in table.columns]
    if columns != expected:
        missing = sorted(set(expected) - set(columns))
        extra = sorted(set(columns) - set(expected))
        raise BackupError(
            f"table {name}: the backup's columns do not match this database "
            f"(missing {missing}, unknown {extra}); restore with the version that wrote it"
        )
    decoded = []
    for number, row in enumerate(rows, start=1):
        if len(row) != len(columns):
            raise BackupError(
                f"table {name}, row {number}: {len(row)} values, expected {len(columns)}"
            )
        decoded.append({c.name: _decode(c, v) for c, v in zip(table.columns, row, strict=True)})
    return decoded


def _reset_sequences(connection: Connection, tables: dict[str, Table]) -> None:
    """PostgreSQL: move each id sequence past the restored ids (SQLite needs nothing)."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables.values():
        if "id" not in table.c or not table.c.id.autoincrement:
            continue
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
            )
        )


def backup_from(session: Session, clan_id: int) -> dict[str, Any]:
    """:func:`backup_clan` on the session's connection."""
    return backup_clan(session.connection(), clan_id)


def restore_into(session: Session, data: dict[str, Any]) -> int:
    """:func:`restore_clan` on the session's connection; commits, or rolls back on
    :class:`BackupError`."""
    try:
        clan_id = restore_clan(session.connection(), data)
    except BackupError:
        session.rollback()
        raise
    session.commit()
    return clan_id


def write_backup(data: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=_json_default), "utf-8")


def read_backup(path: Path) -> dict[str, Any]:
    """Load a backup file.

    Raises:
        BackupError: the file is not valid JSON (with the line and column).
    """
    try:
        return json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise BackupError(
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}"
        ) from exc


def _json_default(value: Any) -> Any:
    raise TypeError(f"cannot write {type(value).__name__} to a backup")
