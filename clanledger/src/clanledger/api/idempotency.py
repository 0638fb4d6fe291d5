"""The ``Idempotency-Key`` header of API writes (see
:mod:`clanledger.services.api_idempotency`): a retry gets the first answer again."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, g, make_response, request

from clanledger.extensions import db
from clanledger.services import api_idempotency
from clanledger.services.api_idempotency import StoredAnswer

F = TypeVar("F", bound=Callable[..., Any])
HEADER = "Idempotency-Key"
KEY_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "A retry with the same key and body gets the first answer again.",
}


def _request_hash() -> str:
    """The body's digest; JSON is compared by value (key order and spacing do not count)."""
    raw = request.get_data()
    with contextlib.suppress(ValueError):  # not JSON: the view refuses it; bytes as sent
        raw = json.dumps(json.loads(raw or b"null"), sort_keys=True).encode()
    return hashlib.sha256(raw).hexdigest()


def idempotent(view: F) -> F:
    """Answer a repeated ``Idempotency-Key`` with the first successful answer; keep it."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        route, digest, token_id = (
            f"{request.method} {request.path}",
            _request_hash(),
            g.api_token.id,
        )
        kept = api_idempotency.stored_answer(db.session, token_id, route, key, digest)
        if kept is not None:
            response = Response(kept.body, status=kept.status, mimetype="application/json")
            response.headers["Idempotent-Replayed"] = "true"
            return response
        response = make_response(view(*args, **kwargs))
        if 200 <= response.status_code < 300:
            answer = StoredAnswer(response.status_code, response.get_data(as_text=True))
            api_idempotency.keep_answer(db.session, token_id, route, key, digest, answer)
        return response

    return wrapped  # type: ignore[return-value]
