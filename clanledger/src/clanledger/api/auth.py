"""Bearer tokens: who a request acts as, what it may do, and its rate-limit key.

Cookies never authenticate the API: only ``Authorization: Bearer clt_…`` does, so a page
open in a browser cannot be made to call the API on its user's behalf (no CSRF).

The personal book (``/api/v1/book``) needs a token made with the personal scope: for any
other token every book route answers 404, exactly as an address that does not exist, so a
clan bot's token learns nothing of its user's own spending, not even that the book exists.
"""

from __future__ import annotations

import hashlib

from flask import g, request
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import Forbidden, NotFound, Unauthorized

from clanledger.extensions import db
from clanledger.models import ApiToken, TokenScope
from clanledger.services.api_tokens import token_for

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BOOK_PREFIX = "/api/v1/book"


def bearer_secret() -> str | None:
    """The token sent as ``Authorization: Bearer <token>``, or ``None``."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def rate_limit_key() -> str:
    """One bucket per token (a digest of it, never the token), else per address."""
    secret = bearer_secret()
    if secret is None:
        return f"api-address:{get_remote_address()}"
    return "api-token:" + hashlib.sha256(secret.encode()).hexdigest()[:32]


def authenticate() -> None:
    """``before_request`` of the API: a live token, with the write scope for a write."""
    secret = bearer_secret()
    token = token_for(db.session, secret) if secret else None
    if token is None:
        raise Unauthorized()
    if is_book_route() and not token.personal:
        raise NotFound()  # before the scope check: a read token must not learn it exists
    if request.method not in READ_METHODS and token.scope != TokenScope.WRITE:
        raise Forbidden()
    g.api_token = token


def is_book_route() -> bool:
    """Whether the request is for one of the personal book's routes."""
    rule = request.url_rule.rule if request.url_rule is not None else request.path
    return rule == BOOK_PREFIX or rule.startswith(BOOK_PREFIX + "/")


def api_user_id() -> int:
    """The id of the user the request's token belongs to."""
    token: ApiToken = g.api_token
    return token.user_id
