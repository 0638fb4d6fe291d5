"""Clan-scoped views: login, membership (404 outside the clan) and role (403) in one place.

Views under ``/clans/<int:clan_id>/...`` use :func:`clan_view`; the service they call
checks the role again, so hiding a button is never the only protection.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, g, render_template
from flask_login import current_user, login_required

from clanledger.extensions import db
from clanledger.models import Role
from clanledger.services.authz import active_membership
from clanledger.services.errors import NotFound, PermissionDenied

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
        return render_error(403)


def render_error(status: int) -> tuple[str, int]:
    try:
        return render_template("errors/error.html", status=status), status
    except Exception:  # template not there yet: plain text is still a correct answer
        return str(status), status
