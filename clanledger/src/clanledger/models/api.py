"""Personal access tokens: how a bot or a tool signs in to the REST API as its user."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
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
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
