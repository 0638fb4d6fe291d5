"""Shared fixtures. ``TEST_DATABASE_URL`` switches the whole suite to another database
(PostgreSQL in CI); without it each test gets a fresh SQLite file."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask

from clanledger import create_app
from clanledger.extensions import db


@pytest.fixture
def app(tmp_path) -> Iterator[Flask]:
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.sqlite3'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask):
    return app.test_client()
