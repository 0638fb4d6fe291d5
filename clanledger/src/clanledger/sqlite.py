"""One write discipline on SQLite: every transaction starts with ``BEGIN IMMEDIATE``.

pysqlite opens transactions lazily (a plain deferred ``BEGIN`` before the first write), so
two requests can both read, then both try to write: one fails at once with "database is
locked" (a 500), or, worse, a close reads the balances while a sale still commits into the
month it is closing. SQLAlchemy's documented recipe for pysqlite turns the driver's own
transaction handling off (autocommit on the DBAPI connection) and emits ``BEGIN`` in the
engine's ``begin`` event; here it is ``BEGIN IMMEDIATE``, which takes the database's write
lock when the transaction starts. Everything a request or a service reads and writes is
then one serialised unit, as the row locks (``FOR SHARE`` / ``FOR UPDATE``) make it on
PostgreSQL. The busy timeout makes a second writer queue behind the first instead of failing.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from clanledger.extensions import db

DEFAULT_BUSY_TIMEOUT_MS = 30_000
# ``Connection.info`` key: the statement that begins a transaction on that DBAPI connection.
# ``None`` leaves the connection in autocommit (each statement its own transaction): only
# for a test's own thread that reads while a live server in other threads writes.
BEGIN_KEY = "sqlite_begin"
BEGIN_IMMEDIATE = "BEGIN IMMEDIATE"


def install_sqlite_write_discipline(app: Flask) -> None:
    """On every SQLite engine of ``app``: autocommit DBAPI connections, a busy timeout
    (``SQLITE_BUSY_TIMEOUT_MS``) and ``BEGIN IMMEDIATE`` at the start of each transaction.
    Other databases are left alone."""
    timeout = int(app.config.get("SQLITE_BUSY_TIMEOUT_MS", DEFAULT_BUSY_TIMEOUT_MS))
    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        if engine.dialect.name == "sqlite":
            _install(engine, timeout)


def _install(engine: Engine, timeout_ms: int) -> None:
    def connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None  # the begin event below starts transactions
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")
        cursor.close()

    def begin(connection: Connection) -> None:
        statement = connection.info.get(BEGIN_KEY, BEGIN_IMMEDIATE)
        if statement:
            connection.exec_driver_sql(statement)

    event.listen(engine, "connect", connect)
    event.listen(engine, "begin", begin)
