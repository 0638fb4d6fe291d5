"""The production server (``make serve-prod``): it refuses a database that is not
PostgreSQL with one line, and on PostgreSQL it migrates, starts gunicorn and answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from clanledger.production import gunicorn_command, main, require_production_database

REFUSED = [
    ({}, "DATABASE_URL is not set"),
    ({"DATABASE_URL": "  "}, "DATABASE_URL is not set"),
    ({"DATABASE_URL": "sqlite:///instance/clanledger.sqlite3"}, "names sqlite, not PostgreSQL"),
    ({"DATABASE_URL": "mysql://root@localhost/clanledger"}, "names mysql, not PostgreSQL"),
    ({"DATABASE_URL": "not a url"}, "is not a database URL"),
]


@pytest.mark.parametrize(("env", "message"), REFUSED)
def test_refuses_anything_but_postgresql_in_one_line(monkeypatch, capsys, env, message) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main([]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and err.startswith("clanledger: ")


def test_postgres_spellings_map_onto_psycopg() -> None:
    for url in ("postgres://u@h/db", "postgresql://u@h/db", "postgresql+psycopg://u@h/db"):
        assert require_production_database({"DATABASE_URL": url}) == "postgresql+psycopg://u@h/db"


def test_unreachable_database_is_one_line(monkeypatch, capsys) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody@127.0.0.1:{port}/none")
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("clanledger: cannot reach the database") and err.count("\n") == 1


@pytest.mark.parametrize("flag", ["--workers=0", "--threads=999", "--workers=many"])
def test_bad_flags_exit_2(flag, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([flag])
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_gunicorn_command_uses_the_production_settings() -> None:
    command = gunicorn_command("127.0.0.1:9000", 3, None)
    assert command[1:3] == ["-m", "gunicorn"]
    assert "python:clanledger.gunicorn_conf" in command
    assert command[command.index("--workers") + 1] == "3"
    assert "--threads" not in command and command[-1] == "clanledger:create_app()"


@pytest.fixture
def empty_postgres(server_database_url) -> Iterator[str]:
    """A schema of its own with no tables, for the server's own ``flask db upgrade``."""
    if not (server_database_url or "").startswith("postgresql"):
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    base = os.environ["TEST_DATABASE_URL"]
    schema = f"prod_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


@pytest.mark.postgres
def test_serve_prod_migrates_starts_and_answers(empty_postgres) -> None:
    port = _free_port()
    env = os.environ | {"DATABASE_URL": empty_postgres, "SECRET_KEY": "s" * 40}
    command = [sys.executable, "-m", "clanledger.production", f"--bind=127.0.0.1:{port}"]
    server = subprocess.Popen(
        [*command, "--workers=2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stdout.read().decode()
            try:
                status, body = _get(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                assert time.monotonic() < deadline, "no answer within 60 s"
                time.sleep(0.3)
        assert status == 200 and "<html" in body.lower()
        assert _get(f"http://127.0.0.1:{port}/healthz")[0] == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert "Running upgrade" in output  # migrations first
    assert "Booting worker" in output and '"GET / HTTP/1.1" 200' in output  # logs on stdout
