"""``make serve``, the README's first command for clanledger, in a quick form: on a fresh
SQLite database it migrates, seeds the demo clan, answers on its port with the sign-in page,
and stops its clan-chat worker when the server stops."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
STARTUP_SECONDS = 240  # set-up check, migrations and the demo clan on a busy 2-core machine

pytestmark = pytest.mark.skipif(
    shutil.which("make") is None or not (ROOT / ".venv" / "bin" / "flask").exists(),
    reason="needs make and the repository's .venv (make setup)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answer(url: str) -> tuple[int, str] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""
    except OSError:
        return None


def _workers(database: Path) -> list[str]:
    """Processes still running a clan-chat worker on this test's database."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit():
                continue
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if "deliver" in command and str(database).encode() in environ:
            found.append(command)
    return found


def test_make_serve_starts_answers_and_stops_its_worker(tmp_path) -> None:
    port, database = _free_port(), tmp_path / "serve.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "s" * 40,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # the demo's 30 members, quickly
    }
    env.pop("TEST_DATABASE_URL", None)
    server = subprocess.Popen(
        ["make", "--no-print-directory", "-C", str(ROOT), "serve", f"SERVE_PORT={port}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline, answer = time.monotonic() + STARTUP_SECONDS, None
        while time.monotonic() < deadline and server.poll() is None:
            answer = _answer(f"http://127.0.0.1:{port}/auth/login")
            if answer:
                break
            time.sleep(0.5)
        assert answer is not None, "make serve did not answer in time"
        status, page = answer
        assert status == 200 and 'name="username"' in page
        assert _workers(database), "the clan-chat worker is not running beside the server"
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            output = server.communicate(timeout=30)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            output = server.communicate()[0].decode(errors="replace")
    assert "demo" in output  # the first run seeded the demo clan and printed its login
    for _ in range(20):
        if not _workers(database):
            break
        time.sleep(0.5)
    assert not _workers(database), "the clan-chat worker outlived the server"
