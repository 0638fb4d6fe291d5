"""The API blueprint and what every request to it goes through: a bearer token, the rate
limit of that token, no CSRF (no cookie authenticates it) and problem details for errors."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from flask_smorest import Blueprint
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.exceptions import NotFound as NoSuchRoute

from clanledger.api.auth import authenticate, bearer_secret, is_book_route, rate_limit_key
from clanledger.api.problems import http_problem, problem
from clanledger.extensions import csrf, db, limiter
from clanledger.i18n import service_message
from clanledger.services.api_tokens import token_for
from clanledger.services.errors import (
    Conflict,
    DatabaseBusy,
    NotFound,
    PermissionDenied,
    ValidationError,
    is_lost_race,
)

DEFAULT_RATE_LIMIT = "300 per minute"

bp = Blueprint(
    "api", __name__, url_prefix="/api/v1", description="A clan's ledger, read by its members."
)
bp.before_request(authenticate)
csrf.exempt(bp)
limiter.limit(
    lambda: current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT), key_func=rate_limit_key
)(bp)
bp.register_error_handler(HTTPException, http_problem)


@bp.before_app_request
def _book_method_hidden() -> None:
    """A wrong method on a book route is 405 only for a token with the personal scope:
    for any other request the route does not exist (404), as every book route."""
    if not isinstance(request.routing_exception, MethodNotAllowed) or not is_book_route():
        return
    secret = bearer_secret()
    token = token_for(db.session, secret) if secret else None
    if token is None or not token.personal:
        raise NoSuchRoute()


@bp.errorhandler(NotFound)
def _not_found(error: NotFound) -> Response:
    return problem(404)


@bp.errorhandler(PermissionDenied)
def _forbidden(error: PermissionDenied) -> Response:
    return problem(403, service_message(error))


@bp.errorhandler(Conflict)
def _conflict(error: Conflict) -> Response:
    return problem(409, service_message(error))


@bp.errorhandler(ValidationError)
def _invalid(error: ValidationError) -> Response:
    message = service_message(error)
    return problem(422, message, errors={error.field or "body": [message]})


@bp.errorhandler(DatabaseBusy)
def _busy(error: DatabaseBusy) -> Any:
    """A lock given up on (SQLite busy, PostgreSQL deadlock): nothing was saved, 409."""
    if not is_lost_race(error):
        raise error
    return problem(409)
