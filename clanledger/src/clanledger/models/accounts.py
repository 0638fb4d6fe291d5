"""Users, clans, memberships, characters, dated rates and the audit log."""

from __future__ import annotations

import enum
import hashlib
from datetime import date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clanledger.domain.fees import FeePolicy
from clanledger.extensions import db
from clanledger.models.types import UTCDateTime, utcnow


def _enum(cls: type[enum.Enum], length: int = 32) -> Enum:
    """Store enums by value as plain ``VARCHAR(length)`` strings, with no CHECK constraint
    (portable, readable in SQL and backups; the schema stays a plain string column)."""
    return Enum(
        cls,
        values_callable=lambda e: [m.value for m in e],
        native_enum=False,
        length=length,
        create_constraint=False,
        validate_strings=True,
    )


class Role(enum.StrEnum):
    LEADER = "leader"  # 盟主
    OFFICER = "officer"  # 幹部
    MEMBER = "member"  # 盟員

    @property
    def rank(self) -> int:
        return {"member": 1, "officer": 2, "leader": 3}[self.value]


class MembershipStatus(enum.StrEnum):
    """Where a user stands in a clan; removed and rejected memberships keep the history."""

    PENDING = "pending"  # asked to join, waiting for an officer
    ACTIVE = "active"
    REJECTED = "rejected"
    REMOVED = "removed"


class RateKind(enum.StrEnum):
    EXCHANGE_FEE = "exchange_fee"
    FUND_CUT = "fund_cut"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")

    @property
    def session_fingerprint(self) -> str:
        """Changes whenever the password changes."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    def get_id(self) -> str:
        """The id kept in the session and the remember-me cookie. It carries the password's
        fingerprint, so a new password signs every other device out."""
        return f"{self.id}:{self.session_fingerprint}"


class Clan(db.Model):
    __tablename__ = "clans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    server: Mapped[str] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Taipei")
    # Who bears the exchange fee on settlement transfers: payer | receiver | fund.
    fee_policy: Mapped[FeePolicy] = mapped_column(
        _enum(FeePolicy, length=16), default=FeePolicy.PAYER
    )
    settlement_period: Mapped[str] = mapped_column(String(16), default="monthly")
    # Net balances with an absolute value below this carry forward instead of moving.
    carry_threshold: Mapped[int] = mapped_column(Integer, default=0)
    # Extra share weight for the raid caller / leader at a kill ("0" = none, "1" = one share).
    caller_bonus: Mapped[str] = mapped_column(String(32), default="0")
    # Minutes members may check in to a kill with its code; roll call locks after this.
    checkin_window_minutes: Mapped[int] = mapped_column(Integer, default=30)
    rollcall_lock_minutes: Mapped[int] = mapped_column(Integer, default=120)
    invite_code: Mapped[str] = mapped_column(String(32), unique=True)
    # Internal auctions: a bid plus what the bidder already leads may be at most their
    # balance plus this many diamonds; empty = no limit (domain/auction.py: check_limit).
    auction_credit: Mapped[int | None] = mapped_column(BigInteger)
    # The character who holds the clan fund's diamonds (usually the leader's main).
    treasurer_character_id: Mapped[int | None] = mapped_column(
        ForeignKey("characters.id", use_alter=True, ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="clan")
    rates: Mapped[list[ClanRate]] = relationship(
        back_populates="clan", order_by="ClanRate.effective_from"
    )


class ClanRate(db.Model):
    """A dated rate: a change adds a row, the old rows stay for past sales."""

    __tablename__ = "clan_rates"
    __table_args__ = (UniqueConstraint("clan_id", "kind", "effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clan_id: Mapped[int] = mapped_column(ForeignKey("clans.id"), index=True)
    kind: Mapped[RateKind] = mapped_column(_enum(RateKind))
    bps: Mapped[int] = mapped_column(Integer)  # basis points: 500 = 5 %
    effective_from: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    clan: Mapped[Clan] = relationship(back_populates="rates")


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("clan_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clan_id: Mapped[int] = mapped_column(ForeignKey("clans.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.MEMBER)
    status: Mapped[MembershipStatus] = mapped_column(
        _enum(MembershipStatus, length=16), default=MembershipStatus.ACTIVE
    )
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Why an officer removed a member who still had diamonds to settle (audited).
    removal_reason: Mapped[str | None] = mapped_column(Text)

    clan: Mapped[Clan] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")


class Character(db.Model):
    """A game character. ``user_id`` is empty for roster characters not yet claimed."""

    __tablename__ = "characters"
    __table_args__ = (
        UniqueConstraint("clan_id", "name"),
        # A wallet points at its lowest id: never at itself, never in a cycle.
        CheckConstraint("wallet_character_id < id", name="wallet_below_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clan_id: Mapped[int] = mapped_column(ForeignKey("clans.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    char_class: Mapped[str] = mapped_column(String(32), default="")
    active: Mapped[bool] = mapped_column(default=True)
    # The character whose purse this one shares (one game account): the wallet's anchor.
    # Empty: a wallet of its own (and the anchor of any character that points here).
    wallet_character_id: Mapped[int | None] = mapped_column(
        ForeignKey("characters.id", ondelete="SET NULL"), index=True
    )
    claim_token_hash: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PasswordResetToken(db.Model):
    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    clan_id: Mapped[int] = mapped_column(ForeignKey("clans.id"))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditLog(db.Model):
    """Who changed what in a clan, with the row before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    clan_id: Mapped[int] = mapped_column(ForeignKey("clans.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(16))  # create | update | delete
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int | None] = mapped_column(BigInteger)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
