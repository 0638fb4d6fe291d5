"""Browser fixtures: a live server on the test database and Playwright pages in Debian's
chromium. Every test in this folder is marked ``browser`` automatically; all of them skip
cleanly when chromium (``/usr/bin/chromium``) or the playwright package is missing.

Fixtures:
    live_server: the app served by werkzeug in a thread on a free port (CSRF on, as in
        production); ``live_server.url("/path")`` builds absolute URLs.
    browser: one chromium per test session.
    page: a desktop-sized page (1280x900); ``phone_page`` a phone-sized one (390x844).
    new_page: a factory for more pages (a second user in another browser context).
    screenshot: ``screenshot(page, "name")`` saves ``clanledger/artifacts/name.png``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from clanledger.extensions import db
from clanledger.sqlite import BEGIN_IMMEDIATE, BEGIN_KEY

CHROMIUM = os.environ.get("CLANLEDGER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@dataclass
class LiveServer:
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path


def _test_thread_reads_in_autocommit(dbapi_connection, connection_record, proxy) -> None:
    """On SQLite every transaction holds the write lock (``BEGIN IMMEDIATE``) until it ends;
    the test's own thread reads rows between browser steps and never ends its transaction,
    so its statements run in autocommit instead while the server threads keep the rule."""
    test_thread = threading.current_thread() is threading.main_thread()
    connection_record.info[BEGIN_KEY] = None if test_thread else BEGIN_IMMEDIATE


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """Serve ``app`` (the test database, CSRF protection on) until the test ends."""
    app.config.update(WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    if db.engine.dialect.name == "sqlite":
        db.session.commit()  # the fixtures' last transaction
        db.engine.pool.dispose()
        sa.event.listen(db.engine, "checkout", _test_thread_reads_in_autocommit)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(server, thread)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(browser, live_server: LiveServer) -> Iterator[Callable[..., object]]:
    """Open a page in a fresh browser context (its own cookies: another user)."""
    contexts = []

    def make(viewport: dict[str, int] | None = None, **options) -> object:
        context = browser.new_context(
            base_url=live_server.base_url, viewport=viewport or DESKTOP, **options
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page) -> object:
    return new_page()


@pytest.fixture
def phone_page(new_page) -> object:
    return new_page(PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)


@pytest.fixture
def screenshot() -> Callable[[object, str], Path]:
    """Save a full-page PNG under ``clanledger/artifacts/`` and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
