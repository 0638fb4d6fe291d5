"""Configuration: environment variables first, then safe defaults.

``DATABASE_URL`` selects the database (PostgreSQL through psycopg 3 in production);
without it the app uses a SQLite file in the instance folder. ``SECRET_KEY`` must be set in
production: :func:`check_secret_key` refuses the development default outside debug/testing.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

DEV_SECRET_KEY = "dev-only-secret-change-me"
SECRET_FILE = "secret_key"  # in the instance folder, written by `make serve`


class InsecureConfigError(RuntimeError):
    """The configuration would run production with a known or missing secret."""


def normalise_database_url(url: str) -> str:
    """Map the common ``postgres://`` and ``postgresql://`` spellings onto psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(app: Flask, overrides: dict[str, Any] | None = None) -> None:
    """Fill ``app.config`` from defaults, the environment and ``overrides``."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    sqlite_path = Path(app.instance_path) / "clanledger.sqlite3"
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{sqlite_path}"
    redis_url = os.environ.get("REDIS_URL")
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY") or _instance_secret(app) or DEV_SECRET_KEY,
        SQLALCHEMY_DATABASE_URI=normalise_database_url(database_url),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        PREFERRED_URL_SCHEME=os.environ.get("PREFERRED_URL_SCHEME", "http"),
        REDIS_URL=redis_url,
        # Werkzeug's scrypt in production; tests set a cheap pbkdf2 for speed.
        PASSWORD_HASH_METHOD=os.environ.get("PASSWORD_HASH_METHOD", "scrypt"),
        # Sign-in attempts per client address (Flask-Limiter syntax).
        LOGIN_RATE_LIMIT=os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        RATELIMIT_ENABLED=_env_flag("RATELIMIT_ENABLED", True),
        RATELIMIT_HEADERS_ENABLED=True,
        # Password-reset and character-claim links live this long.
        RESET_TOKEN_HOURS=int(os.environ.get("RESET_TOKEN_HOURS", "24")),
        # Clan-chat webhooks: the site's address for links, and whether a webhook may point
        # at a loopback or private address (off: only public hosts).
        PUBLIC_URL=os.environ.get("PUBLIC_URL", ""),
        WEBHOOKS_ALLOW_INTERNAL=_env_flag("WEBHOOKS_ALLOW_INTERNAL", False),
        BABEL_DEFAULT_LOCALE="zh_Hant",
        BABEL_DEFAULT_TIMEZONE="Asia/Taipei",
        BOOTSTRAP_SERVE_LOCAL=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_DURATION=60 * 60 * 24 * 30,
        WTF_CSRF_TIME_LIMIT=None,  # tokens live as long as the session
        # The largest request body: a 5 MB payment screenshot plus the form around it. A larger
        # upload is refused (413) before it is read, instead of after.
        MAX_CONTENT_LENGTH=int(os.environ.get("MAX_CONTENT_LENGTH", str(8 * 1024 * 1024))),
    )
    if overrides:
        app.config.update(overrides)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    overrides = overrides or {}
    if "RATELIMIT_STORAGE_URI" not in overrides:
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"] or "memory://"
    # Cookies only travel over TLS when the app is served over https.
    secure = app.config["PREFERRED_URL_SCHEME"] == "https"
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if key not in overrides:
            app.config[key] = secure
    check_secret_key(app)


def _instance_secret(app: Flask) -> str | None:
    path = Path(app.instance_path) / SECRET_FILE
    if path.is_file():
        return path.read_text().strip() or None
    return None


def ensure_instance_secret() -> Path:
    """Write a random secret key into the instance folder unless one is there already.

    For a single-machine install (``make serve``): sessions then survive restarts without
    anyone choosing a key. Production sets ``SECRET_KEY`` in the environment instead.
    """
    app = Flask("clanledger", instance_relative_config=True)
    path = Path(app.instance_path) / SECRET_FILE
    if not path.is_file() or not path.read_text().strip():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32) + "\n")
    return path


def check_secret_key(app: Flask) -> None:
    """Refuse to run production with the development secret (sessions would be forgeable).

    Raises:
        InsecureConfigError: ``SECRET_KEY`` is empty or the dev default, and the app is in
            neither debug nor testing mode.
    """
    if app.debug or app.testing:
        return
    key = app.config.get("SECRET_KEY")
    if not key or key == DEV_SECRET_KEY:
        raise InsecureConfigError(
            "SECRET_KEY is not set: refusing to start with the development default. "
            "Set the SECRET_KEY environment variable to a long random value, e.g. "
            "export SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))'), "
            "or run with --debug / FLASK_DEBUG=1 for local development."
        )
