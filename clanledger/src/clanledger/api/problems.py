"""RFC 9457 problem details: every API error is ``application/problem+json`` with a
``detail`` in the reader's language (``Accept-Language``: zh-Hant or en)."""

from __future__ import annotations

from typing import Any

from flask import Response, json, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from clanledger.domain.messages import N_

API_PREFIX = "/api/"
PROBLEM_TYPE = "application/problem+json"
TITLES = {
    400: N_("Bad request"),
    401: N_("Not signed in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Too large"),
    422: N_("Invalid values"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong"),
}
DETAILS = {
    400: N_("The request could not be understood: send JSON and query values as documented."),
    401: N_("Send a valid personal access token: Authorization: Bearer clt_…"),
    403: N_("Your role in this clan does not allow this. Ask an officer or the leader."),
    404: N_("This resource does not exist, or it belongs to a clan you are not in."),
    405: N_("This address does not accept that kind of request."),
    409: N_("Someone else changed this at the same time. Reload the page and try again."),
    413: N_("What was sent is larger than the server accepts."),
    422: N_("Some values are missing or not valid; see errors."),
    429: N_("Too many requests with this token. Wait a minute and try again."),
    500: N_("The server ran into an error. Nothing was saved; try again in a moment."),
}


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def problem(status: int, detail: str | None = None, **extra: Any) -> Response:
    """A problem response: ``title`` and ``detail`` translated, ``extra`` members added."""
    body = {
        "type": "about:blank",
        "title": gettext(TITLES.get(status, TITLES[500])),
        "status": status,
        "detail": detail or gettext(DETAILS.get(status, DETAILS[500])),
        **extra,
    }
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="clanledger"'
    return response


def http_problem(error: HTTPException) -> Response:
    """An HTTP error raised anywhere under ``/api/`` (routing, webargs, the rate limiter)."""
    status = error.code or 500
    extra: dict[str, Any] = {}
    messages = getattr(error, "data", {}).get("messages") if hasattr(error, "data") else None
    if messages:
        # webargs: {location: {field: [messages]}}; the fields are what a client fixes.
        errors: dict[str, Any] = {}
        for location, fields in messages.items():
            errors.update(fields if isinstance(fields, dict) else {location: fields})
        extra["errors"] = errors
    response = problem(status, **extra)
    for name, value in getattr(error, "get_headers", lambda: [])() or []:
        if name.lower() in ("retry-after", "allow"):
            response.headers[name] = value
    return response
