"""Service errors. Blueprints turn them into responses: NotFound -> 404,
PermissionDenied -> 403, ValidationError -> the form shown again with field errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from clanledger.domain.messages import N_


class ServiceError(Exception):
    """Base class: ``message`` (an ``N_`` msgid) is shown to the user, translated by the web
    layer (:func:`clanledger.i18n.service_message`), with ``params`` filled in the user's
    language: a ``date`` under the key ``month`` is named as its month, another as its day."""

    def __init__(self, message: str, params: dict[str, Any] | None = None) -> None:
        self.message = message
        self.params = dict(params or {})
        super().__init__(self.text)

    @property
    def text(self) -> str:
        """The message in English with its parameters (logs, the command line)."""
        if not self.params:
            return self.message
        shown = {
            key: f"{value:%Y-%m}" if key == "month" and isinstance(value, date) else value
            for key, value in self.params.items()
        }
        return self.message % shown


class NotFound(ServiceError):
    """Missing, or outside the user's clans: both answer 404, so nothing leaks."""

    def __init__(self, message: str = "not found") -> None:
        super().__init__(message)


class PermissionDenied(ServiceError):
    """A member of the clan without the role the action needs."""


class ValidationError(ServiceError):
    """Bad input. ``field`` names the form field the message belongs to, when there is one."""

    def __init__(
        self, message: str, field: str | None = None, params: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, params)
        self.field = field


class Conflict(ServiceError):
    """The action lost a race or repeats one already done (double submit, stale form)."""


# SQLSTATEs of a transaction PostgreSQL gave up on because of another one:
# serialization_failure, deadlock_detected, lock_not_available.
LOST_RACE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})

# The error a database raises when it gave up waiting for a lock (for the web's handler).
DatabaseBusy = OperationalError

BUSY = N_("Someone else changed this at the same time. Reload the page and try again.")


def is_lost_race(exc: BaseException) -> bool:
    """Whether a database error means "another transaction was in the way" (SQLite still
    locked after its busy timeout, a PostgreSQL deadlock or serialization failure), not a
    bug: the request can simply be tried again."""
    if not isinstance(exc, OperationalError | DBAPIError):
        return False
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in LOST_RACE_SQLSTATES:
        return True
    text = str(orig).lower()
    return "database is locked" in text or "database table is locked" in text


def flush_or_conflict(session: Session, message: str) -> None:
    """Flush (to learn new ids before the commit), as :func:`commit_or_conflict` commits."""
    _or_conflict(session, session.flush, message)


def commit_or_conflict(session: Session, message: str) -> None:
    """Commit, turning a lost race into :class:`Conflict` with ``message``: a unique key the
    database refused (a form sent twice, a name taken meanwhile), a stale version column
    (someone changed the row since it was read) or a lock the database gave up waiting for.
    The session is rolled back."""
    _or_conflict(session, session.commit, message)


def _or_conflict(session: Session, step: Callable[[], None], message: str) -> None:
    try:
        step()
    except (IntegrityError, StaleDataError) as exc:
        session.rollback()
        raise Conflict(message) from exc
    except OperationalError as exc:
        session.rollback()
        if is_lost_race(exc):
            raise Conflict(message) from exc
        raise
