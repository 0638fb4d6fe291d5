"""Service errors. Blueprints turn them into responses: NotFound -> 404,
PermissionDenied -> 403, ValidationError -> the form shown again with field errors."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError


class ServiceError(Exception):
    """Base class: ``message`` is shown to the user (translated by the caller's gettext)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    """Missing, or outside the user's clans: both answer 404, so nothing leaks."""

    def __init__(self, message: str = "not found") -> None:
        super().__init__(message)


class PermissionDenied(ServiceError):
    """A member of the clan without the role the action needs."""


class ValidationError(ServiceError):
    """Bad input. ``field`` names the form field the message belongs to, when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Conflict(ServiceError):
    """The action lost a race or repeats one already done (double submit, stale form)."""


def commit_or_conflict(session: Session, message: str) -> None:
    """Commit, turning a lost race into :class:`Conflict` with ``message``: a unique key the
    database refused (a form sent twice, a name taken meanwhile) or a stale version column
    (someone changed the row since it was read). The session is rolled back."""
    try:
        session.commit()
    except (IntegrityError, StaleDataError) as exc:
        session.rollback()
        raise Conflict(message) from exc
