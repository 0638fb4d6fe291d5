"""Clan-scoped views: login, membership (404 outside the clan) and role (403) in one place.

Views under ``/clans/<int:clan_id>/...`` use :func:`clan_view`; the service they call
checks the role again, so hiding a button is never the only protection.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, g, render_template
from flask_babel import gettext
from flask_login import current_user, login_required

from clanledger.extensions import db, login_manager
from clanledger.i18n import service_message
from clanledger.models import Role
from clanledger.services.authz import active_membership
from clanledger.services.errors import (
    BUSY,
    Conflict,
    DatabaseBusy,
    NotFound,
    PermissionDenied,
    ValidationError,
    is_lost_race,
)

F = TypeVar("F", bound=Callable[..., Any])


def clan_view(min_role: Role = Role.MEMBER) -> Callable[[F], F]:
    """Require login, an active membership of ``clan_id`` and at least ``min_role``.

    Sets ``g.clan`` and ``g.membership``. The view keeps ``min_role`` as an attribute so the
    permission sweep test knows what each route expects.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, clan_id: int, **kwargs: Any) -> Any:
            try:
                membership = active_membership(db.session, current_user.id, clan_id)
            except NotFound:
                abort(404)
            if membership.role.rank < min_role.rank:
                abort(403)
            g.membership = membership
            g.clan = membership.clan
            return view(*args, clan_id=clan_id, **kwargs)

        protected = login_required(wrapped)
        protected.min_role = min_role  # type: ignore[attr-defined]
        return protected  # type: ignore[return-value]

    return decorate


def register_error_handlers(app: Flask) -> None:
    """Service errors that escape a view become the matching HTTP status."""

    @app.errorhandler(NotFound)
    def _not_found(error: NotFound) -> Any:
        return render_error(404)

    @app.errorhandler(PermissionDenied)
    def _forbidden(error: PermissionDenied) -> Any:
        return render_error(403, service_message(error))

    @app.errorhandler(Conflict)
    def _conflict(error: Conflict) -> Any:
        return render_error(409, service_message(error))

    @app.errorhandler(ValidationError)
    def _invalid(error: ValidationError) -> Any:
        return render_error(400, service_message(error))

    @app.errorhandler(DatabaseBusy)
    def _database_busy(error: DatabaseBusy) -> Any:
        """Another request held the database longer than the busy timeout (SQLite) or the
        database broke a deadlock (PostgreSQL): nothing was saved, try again (409)."""
        if not is_lost_race(error):
            raise error
        # The page must not wait for the database again: show it as to a visitor.
        g._login_user = login_manager.anonymous_user()
        return render_error(409, gettext(BUSY))


def render_error(status: int, message: str | None = None) -> tuple[str, int]:
    try:
        return render_template("errors/error.html", status=status, message=message), status
    except Exception:  # template not there yet: plain text is still a correct answer
        return str(status), status
