"""Personal access tokens: made and revoked by their user, checked on every API request.

The secret is ``clt_`` and 43 URL-safe characters (256 random bits); only its SHA-256 is
stored, so a stolen database holds no usable token. A token acts as its user, through the
same services and the same clan roles as the web pages: it never sees more than its user.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from clanledger.domain.messages import N_
from clanledger.domain.names import InvalidName, clean_name
from clanledger.models import ApiToken, TokenScope, User
from clanledger.models.types import utcnow
from clanledger.services.accounts import hash_token
from clanledger.services.errors import NotFound, ValidationError

PREFIX = "clt_"
MAX_TOKENS = 20  # live tokens per user
MAX_DAYS = 366  # the longest expiry a token may be given
LAST_USED_STEP = timedelta(minutes=1)  # last-used time is written at most once a minute
NAME_NEEDED = N_("Give the token a name, up to 64 characters, e.g. the bot it is for.")
BAD_SCOPE = N_("Choose read or read-write.")
BAD_EXPIRY = N_("The expiry must be between 1 and 366 days, or none.")
TOO_MANY = N_("You have %(limit)s tokens already. Revoke one you no longer use first.")


def _name(text: str) -> str:
    try:
        name = clean_name(text)
    except InvalidName:
        raise ValidationError(NAME_NEEDED, field="name") from None
    if not name or len(name) > 64:
        raise ValidationError(NAME_NEEDED, field="name")
    return name


def live_tokens(session: Session, user_id: int) -> list[ApiToken]:
    """The user's tokens that are not revoked (expired ones included, marked by the page),
    newest first."""
    return list(
        session.execute(
            select(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.id.desc())
        ).scalars()
    )


def create_token(
    session: Session,
    user_id: int,
    name: str,
    scope: str,
    days: int | None,
    personal: bool = False,
) -> tuple[ApiToken, str]:
    """A new token of ``user_id`` and its secret, which is never available again.

    Args:
        scope: ``read`` or ``write``.
        days: the token expires after that many days (1..366); ``None`` never expires.
        personal: it also reaches the user's personal book (``/api/v1/book``); off unless
            asked for, since most tokens are a clan bot's.
    """
    clean = _name(name)
    if scope not in {s.value for s in TokenScope}:
        raise ValidationError(BAD_SCOPE, field="scope")
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise ValidationError(BAD_EXPIRY, field="days")
    if len(live_tokens(session, user_id)) >= MAX_TOKENS:
        raise ValidationError(TOO_MANY, field="name", params={"limit": MAX_TOKENS})
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user_id,
        name=clean,
        token_hash=hash_token(secret),
        hint=secret[: len(PREFIX) + 4],
        scope=TokenScope(scope),
        personal=personal is True,
        expires_at=None if days is None else utcnow() + timedelta(days=days),
    )
    session.add(token)
    session.commit()
    return token, secret


def revoke_token(session: Session, user_id: int, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (another user's answers :class:`NotFound`)."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id or token.revoked_at is not None:
        raise NotFound()
    token.revoked_at = utcnow()
    session.commit()
    return token


def token_for(session: Session, secret: str, now: datetime | None = None) -> ApiToken | None:
    """The live token whose secret is ``secret``, or ``None`` (unknown, revoked, expired).
    Records when it was last used (at most once a minute, to spare the database)."""
    if not secret.startswith(PREFIX) or len(secret) > 128:
        return None
    now = now or utcnow()
    token = session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(secret))
    ).scalar_one_or_none()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_STEP:
        token.last_used_at = now
        session.commit()
    return token


def token_owner(session: Session, token: ApiToken) -> User:
    """The user a token acts as."""
    user = session.get(User, token.user_id)
    if user is None:
        raise NotFound()
    return user
