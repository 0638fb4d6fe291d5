"""Configuration: environment variables first, then safe defaults.

``DATABASE_URL`` selects the database (PostgreSQL through psycopg 3 in production);
without it the app uses a SQLite file in the instance folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

DEV_SECRET_KEY = "dev-only-secret-change-me"


def normalise_database_url(url: str) -> str:
    """Map the common ``postgres://`` and ``postgresql://`` spellings onto psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_config(app: Flask, overrides: dict[str, Any] | None = None) -> None:
    """Fill ``app.config`` from defaults, the environment and ``overrides``."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    sqlite_path = Path(app.instance_path) / "clanledger.sqlite3"
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{sqlite_path}"
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY", DEV_SECRET_KEY),
        SQLALCHEMY_DATABASE_URI=normalise_database_url(database_url),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        PREFERRED_URL_SCHEME=os.environ.get("PREFERRED_URL_SCHEME", "http"),
        REDIS_URL=os.environ.get("REDIS_URL"),
    )
    if overrides:
        app.config.update(overrides)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
