"""The production server: migrations, then gunicorn with several workers on PostgreSQL.

``python -m clanledger.production`` (``make serve-prod``) checks the environment, runs the
migrations (``flask db upgrade``) and replaces itself with gunicorn configured by
:mod:`clanledger.gunicorn_conf`. SQLite under several workers is not supported: ``make
serve`` is the single-process server for it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from clanledger import create_app
from clanledger.config import normalise_database_url

APP_FACTORY = "clanledger:create_app()"
GUNICORN_CONFIG = "python:clanledger.gunicorn_conf"


class ProductionConfigError(RuntimeError):
    """The environment cannot run the production server; the message says what to set."""


def require_production_database(env: Mapping[str, str]) -> str:
    """The PostgreSQL URL from ``DATABASE_URL``, normalised onto psycopg 3.

    Raises:
        ProductionConfigError: ``DATABASE_URL`` is missing, unreadable or not PostgreSQL.
    """
    raw = (env.get("DATABASE_URL") or "").strip()
    if not raw:
        raise ProductionConfigError(
            "DATABASE_URL is not set: the production server needs PostgreSQL, e.g. "
            "DATABASE_URL=postgresql://user@host/clanledger (make serve runs on SQLite)."
        )
    url = normalise_database_url(raw)
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        raise ProductionConfigError(
            "DATABASE_URL is not a database URL: expected postgresql://user@host/name."
        ) from None
    if backend != "postgresql":
        raise ProductionConfigError(
            f"DATABASE_URL names {backend}, not PostgreSQL: several workers need PostgreSQL "
            "(make serve runs one process on SQLite)."
        )
    return url


def upgrade_database(config: dict[str, Any] | None = None) -> None:
    """Apply the migrations (``flask db upgrade``) on ``DATABASE_URL``, or on the database
    of ``config`` (settings passed to :func:`clanledger.create_app`)."""
    from flask_migrate import upgrade  # heavy: Alembic only when the server starts

    with create_app(config).app_context():
        upgrade()


def gunicorn_command(bind: str, workers: int | None, threads: int | None) -> list[str]:
    """The gunicorn command line the server execs into (settings in ``gunicorn_conf``)."""
    command = [sys.executable, "-m", "gunicorn", "--config", GUNICORN_CONFIG, "--bind", bind]
    if workers:
        command += ["--workers", str(workers)]
    if threads:
        command += ["--threads", str(threads)]
    return [*command, APP_FACTORY]


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m clanledger.production",
        description="Run clanledger in production: migrations, then gunicorn with several "
        "workers on PostgreSQL (DATABASE_URL), the rate limiter on Redis (REDIS_URL) and "
        "SECRET_KEY from the environment or the instance folder. Logs go to stdout.",
    )
    parser.add_argument(
        "--bind",
        default=os.environ.get("CLANLEDGER_BIND", "0.0.0.0:8000"),
        help="address:port to listen on (default: $CLANLEDGER_BIND or 0.0.0.0:8000)",
    )
    parser.add_argument(
        "--workers", type=int, help="worker processes (default: $WEB_CONCURRENCY or 2 x CPUs + 1)"
    )
    parser.add_argument("--threads", type=int, help="threads per worker (default: 4)")
    parser.add_argument(
        "--no-upgrade", action="store_true", help="skip the migrations (already applied)"
    )
    args = parser.parse_args(argv)
    for name in ("workers", "threads"):
        value = getattr(args, name)
        if value is not None and not 1 <= value <= 256:
            parser.error(f"--{name} must be between 1 and 256, not {value}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Check the environment, migrate, then exec gunicorn; 2 with a one-line message on a
    configuration it refuses."""
    args = _parse(argv)
    try:
        require_production_database(os.environ)
        upgrade_database()
    except (ProductionConfigError, RuntimeError) as exc:
        print(f"clanledger: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        print(f"clanledger: cannot reach the database in DATABASE_URL: {reason}", file=sys.stderr)
        return 2
    command = gunicorn_command(args.bind, args.workers, args.threads)
    sys.stdout.flush()
    os.execv(command[0], command)
    return 0  # not reached: execv replaces the process


if __name__ == "__main__":
    sys.exit(main())
