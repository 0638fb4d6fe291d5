"""Personal access tokens: how a bot or a tool signs in to the REST API as its user."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from clanledger.extensions import db
from clanledger.models.accounts import _enum
from clanledger.models.types import UTCDateTime, utcnow


class TokenScope(enum.StrEnum):
    READ = "read"  # GET only
    WRITE = "write"  # read and write


class ApiToken(db.Model):
    """One token of a user. Only the SHA-256 of the secret is stored; the secret is shown
    once, when the token is made. A revoked or expired token authenticates nothing."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))  # the secret's first characters, to tell apart
    scope: Mapped[TokenScope] = mapped_column(_enum(TokenScope))
    # The personal book (記帳) too: without it every /api/v1/book route answers 404, as if
    # it did not exist, so a clan bot's token never reaches its user's own spending.
    personal: Mapped[bool] = mapped_column(default=False, server_default=false())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotentResponse(db.Model):
    """The first answer to a write sent with an ``Idempotency-Key``: a retry with the same
    key, token and route gets it again instead of doing the write twice."""

    __tablename__ = "api_idempotent_responses"
    __table_args__ = (UniqueConstraint("token_id", "route", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"), index=True)
    route: Mapped[str] = mapped_column(String(255))  # method and path
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the body sent
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
