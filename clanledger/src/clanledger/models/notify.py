"""Outgoing clan-chat webhooks and their outbox: one row per message to one webhook, written
in the same transaction as the change it announces and sent later by ``flask deliver``."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clanledger.domain.notify import WebhookKind
from clanledger.extensions import db
from clanledger.models.accounts import _enum
from clanledger.models.types import UTCDateTime, utcnow


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its next try
    SENDING = "sending"  # claimed by a worker until ``lease_until``
    SENT = "sent"
    DEAD = "dead"  # gave up after the last try


class Webhook(db.Model):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    clan_id: Mapped[int] = mapped_column(ForeignKey("clans.id"), index=True)
    kind: Mapped[WebhookKind] = mapped_column(_enum(WebhookKind, length=16))
    url: Mapped[str] = mapped_column(String(500))
    # HMAC-SHA256 key of a generic webhook (hex); shown once, when it is added.
    secret: Mapped[str | None] = mapped_column(String(128))
    events: Mapped[str] = mapped_column(String(500))  # space-separated event names
    locale: Mapped[str] = mapped_column(String(16), default="zh_Hant")
    # "Item unsold": remind this many days after an item was listed and has not sold.
    unsold_days: Mapped[int] = mapped_column(Integer, default=7)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def event_names(self) -> list[str]:
        return self.events.split()


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    clan_id: Mapped[int] = mapped_column(ForeignKey("clans.id"), index=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(32))
    # Sent with every try (header and body): a receiver drops a message it has seen.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    data: Mapped[str] = mapped_column(Text)  # JSON: ids, integer amounts, names
    status: Mapped[OutboxStatus] = mapped_column(
        _enum(OutboxStatus, length=16), default=OutboxStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
