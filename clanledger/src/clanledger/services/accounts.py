"""Accounts: registration, sign-in, passwords, language, and one-time reset links.

There is no mail server: a clan leader creates a reset link for a member of their clan and
passes it on in the clan chat. The link's token is random (256 bits); only its SHA-256 is
stored, so a database leak does not leak working links. A link expires and works once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from clanledger.domain.messages import N_
from clanledger.domain.names import INVALID_NAME, InvalidName, clean_name
from clanledger.models import PasswordResetToken, Role, User
from clanledger.models.types import utcnow
from clanledger.services import audit, authz
from clanledger.services.errors import NotFound, ValidationError

MIN_PASSWORD_LENGTH = 8
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{3,32}$")
SUPPORTED_LOCALES = ("zh_Hant", "en")
RESET_LINK_GONE = N_(
    "This reset link is unknown, used or expired. Ask your clan leader for a new one."
)
# Checked against when the username is unknown, so both paths cost one hash.
_DUMMY_HASH = generate_password_hash("not a password", method="pbkdf2:sha256:1")


DEFAULT_HASH_METHOD = "scrypt"
_hash_method: Callable[[], str] = lambda: DEFAULT_HASH_METHOD  # noqa: E731


def use_hash_method(method: Callable[[], str]) -> None:
    """Name where the hash method comes from (``create_app`` reads ``PASSWORD_HASH_METHOD``
    from the app's config through :mod:`clanledger.security`)."""
    global _hash_method
    _hash_method = method


def hash_password(password: str) -> str:
    """Hash with the configured method (``PASSWORD_HASH_METHOD``, scrypt by default)."""
    return generate_password_hash(password, method=_hash_method())


def hash_token(token: str) -> str:
    """The stored form of a one-time token."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_rules(password: str, field: str = "password") -> None:
    """Raise :class:`ValidationError` if ``password`` is too weak to accept."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(N_("Use at least 8 characters for the password."), field)


def find_user_by_username(session: Session, username: str) -> User | None:
    """Case-insensitive lookup: ``Amin`` and ``amin`` are the same account."""
    return session.execute(
        select(User).where(func.lower(User.username) == username.strip().lower())
    ).scalar_one_or_none()


def _display_name(text: str) -> str:
    """The name shown to the clan: normalised, no invisible characters (empty: none given)."""
    if not text.strip():
        return ""
    try:
        return clean_name(text)
    except InvalidName as exc:
        raise ValidationError(INVALID_NAME, "display_name") from exc


def register_user(
    session: Session, username: str, display_name: str, password: str, locale: str | None = None
) -> User:
    """Create an account.

    Raises:
        ValidationError: bad username or password, or the username is taken.
    """
    username = username.strip()
    if not USERNAME_PATTERN.match(username):
        raise ValidationError(
            N_("Use 3 to 32 letters, digits, dots, dashes or underscores."), "username"
        )
    check_password_rules(password)
    if find_user_by_username(session, username) is not None:
        raise ValidationError(N_("This username is taken."), "username")
    user = User(
        username=username,
        display_name=_display_name(display_name) or username,
        password_hash=hash_password(password),
        locale=locale if locale in SUPPORTED_LOCALES else None,
    )
    session.add(user)
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent registration won the race
        session.rollback()
        raise ValidationError(N_("This username is taken."), "username") from exc
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user if ``password`` is right, else ``None`` (same cost either way)."""
    user = find_user_by_username(session, username)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return user


def change_password(session: Session, user_id: int, current: str, new: str) -> User:
    """Replace the password after checking the current one; returns the user (signed in
    again by the view, since the new password signs other sessions out).

    Raises:
        ValidationError: the current password is wrong or the new one too weak.
    """
    user = session.get(User, user_id)
    if user is None:
        raise NotFound()
    if not check_password_hash(user.password_hash, current):
        raise ValidationError(N_("The current password is not right."), "current_password")
    check_password_rules(new, "new_password")
    user.password_hash = hash_password(new)
    session.commit()
    return user


def set_locale(session: Session, user_id: int, locale: str) -> None:
    """Remember the user's language."""
    if locale not in SUPPORTED_LOCALES:
        raise ValidationError(N_("This language is not available."), "locale")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound()
    user.locale = locale
    session.commit()


def create_reset_link(
    session: Session, actor_id: int, clan_id: int, user_id: int, hours: int = 24
) -> str:
    """A one-time password-reset token for a member of the leader's clan.

    Returns the raw token (to put in a link); only its hash is stored. Earlier unused
    tokens for the same user are invalidated.

    Raises:
        NotFound: the actor or the target is not an active member of the clan.
        PermissionDenied: the actor is not the leader.
    """
    authz.require_role(session, actor_id, clan_id, Role.LEADER)
    authz.active_membership(session, user_id, clan_id)
    audit.set_actor(session, actor_id)
    now = utcnow()
    for earlier in session.execute(
        select(PasswordResetToken).where(
            PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None)
        )
    ).scalars():
        earlier.used_at = now  # cancelled: the newest link is the only one that works
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordResetToken(
            user_id=user_id,
            clan_id=clan_id,
            token_hash=hash_token(token),
            expires_at=now + timedelta(hours=hours),
            created_by_id=actor_id,
        )
    )
    session.commit()
    return token


def _usable_token(session: Session, token: str, now: datetime) -> PasswordResetToken:
    row = session.execute(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == hash_token(token))
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise NotFound(RESET_LINK_GONE)
    return row


def check_reset_token(session: Session, token: str) -> User:
    """The user a still-valid reset token belongs to.

    Raises:
        NotFound: unknown, used or expired token.
    """
    row = _usable_token(session, token, utcnow())
    return session.get(User, row.user_id)  # type: ignore[return-value]


def reset_password(session: Session, token: str, new_password: str) -> User:
    """Set a new password with a reset token; the token is spent atomically.

    Raises:
        NotFound: unknown, used or expired token (also when a concurrent request spent it).
        ValidationError: the new password is too weak.
    """
    check_password_rules(new_password, "new_password")
    now = utcnow()
    row = _usable_token(session, token, now)
    audit.set_actor(session, row.user_id)
    # The database decides who spends the token: only one UPDATE can match used_at IS NULL.
    spent = session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.id == row.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        session.rollback()
        raise NotFound(RESET_LINK_GONE)
    row.used_at = now  # already stored; set on the object too so the audit log records it
    user = session.get(User, row.user_id)
    assert user is not None
    user.password_hash = hash_password(new_password)
    session.commit()
    return user
