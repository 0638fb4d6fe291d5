"""Boss kills, attendance, drops and sales; the journal (entries and postings); periods and
settlement transfers.

The journal is append-only: corrections are reversing entries, never edits. Each entry
belongs to one period, and a closed period's entries never change.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clanledger.domain.fees import FeePolicy
from clanledger.domain.ledger import AccountKind
from clanledger.extensions import db
from clanledger.models.accounts import _enum
from clanledger.models.types import FractionType, UTCDateTime, utcnow


class DropStatus(enum.StrEnum):
    HELD = "held"
    LISTED = "listed"
    UNSOLD = "unsold"
    SOLD = "sold"
    BOUGHT = "bought"  # bought internally by a member, no exchange fee
    STORED = "stored"  # put into clan storage
    AUCTION = "auction"  # up for an internal auction (see models/auction.py)


class SaleKind(enum.StrEnum):
    """How an item was sold: on the exchange, or bought by a member (no exchange fee)."""

    EXCHANGE = "exchange"
    INTERNAL = "internal"


class EntryKind(enum.StrEnum):
    SALE = "sale"
    INTERNAL_PURCHASE = "internal_purchase"
    TRANSFER = "transfer"
    ADJUSTMENT = "adjustment"
    REVERSAL = "reversal"
    OPENING = "opening"  # carry-forwards and the fund balance opening a period
    WALLET_NETTING = "wallet_netting"  # a close moving balances inside wallets, fee-free


class PeriodStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class TransferStatus(enum.StrEnum):
    PLANNED = "planned"
    PAID = "paid"
    CONFIRMED = "confirmed"


class Boss(db.Model):
    __tablename__ = "bosses"
    __table_args__ = (UniqueConstraint("clan_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clan_id: Mapped[int] = mapped_column(ForeignKey("clans.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)


class Kill(db.Model):
    __tablename__ = "kills"
    __table_args__ = (UniqueConstraint("clan_id", "request_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clan_id: Mapped[int] = mapped_column(ForeignKey("clans.id"), index=True)
    boss_id: Mapped[int] = mapped_column(ForeignKey("bosses.id"))
    killed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    checkin_code: Mapped[str | None] = mapped_column(String(16))
    checkin_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rollcall_locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    caller_character_id: Mapped[int | None] = mapped_column(ForeignKey("characters.id"))
    # The clan's caller bonus when the kill was recorded: a later settings change does not
    # rewrite past kills.
    caller_bonus: Mapped[Fraction] = mapped_column(FractionType, default=Fraction(0))
    note: Mapped[str] = mapped_column(String(200), default="")
    # One per form shown: a double-submitted form finds its kill instead of making a second.
    request_key: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    boss: Mapped[Boss] = relationship()
    attendance: Mapped[list[Attendance]] = relationship(
        back_populates="kill", cascade="all, delete-orphan"
    )
    drops: Mapped[list[Drop]] = relationship(back_populates="kill")


class Attendance(db.Model):
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("kill_id", "character_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clan_id: Mapped[int] = mapped_column(ForeignKey("clans.id"), index=True)
    kill_id: Mapped[int] = mapped_column(ForeignKey("kills.id"), index=True)
    character_id: Mapped[int] = mapped_column(ForeignKey("characters.id"), index=True)
    weight: Mapped[Fraction] = mapped_column(FractionType, default=Fraction(1))
    source: Mapped[str] = mapped_column(String(16), default="officer")  # officer | checkin
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    kill: Mapped[Kill] = relationship(back_populates="attendance")


class Drop(db.Model):
    """An item from a kill, held by the character who picked it up until it is sold."""

    __tablename__ = "drops"
    __table_args__ = (
        CheckConstraint("asking_price IS NULL OR asking_price >= 0", "price"),
        UniqueConstraint("clan_id", "request_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clan_id: Mapped[int] = mapped_column(ForeignKey("clans.id"), index=True)
    kill_id: Mapped[int] = mapped_column(ForeignKey("kills.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    grade: Mapped[str] = mapped_column(String(32), default="")
    holder_character_id: Mapped[int] = mapped_column(ForeignKey("characters.id"), index=True)
    status: Mapped[DropStatus] = mapped_column(_enum(DropStatus), default=DropStatus.HELD)
    asking_price: Mapped[int | None] = mapped_column(BigInteger)
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How many times the item went back on the exchange after not selling.
    relist_count: Mapped[int] = mapped_column(Integer, default=0)
    request_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    kill: Mapped[Kill] = relationship(back_populates="drops")
    sale: Mapped[Sale | None] = relationship(back_populates="drop")

    __mapper_args__ = {"version_id_col": version}


class Sale(db.Model):
    """The one sale of a drop: ``drop_id`` is unique, so a double submit cannot post twice."""

    __tablename__ = "sales"
    __table_args__ = (
        UniqueConstraint("drop_id"),
        CheckConstraint("received >= 0", "received"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clan_id: Mapped[int] = mapped_column(ForeignKey("clans.id"), index=True)
    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id"))
    kind: Mapped[SaleKind] = mapped_column(_enum(SaleKind, length=16), default=SaleKind.EXCHANGE)
    gross_price: Mapped[int | None] = mapped_column(BigInteger)  # listing price on the exchange
    received: Mapped[int] = mapped_column(BigInteger)  # diamonds actually received / paid
    expected_received: Mapped[int | None] = mapped_column(BigInteger)
    fee_bps: Mapped[int] = mapped_column(Integer, default=0)
    fund_cut_bps: Mapped[int] = mapped_column(Integer, default=0)
    buyer_character_id: Mapped[int | None] = mapped_column(ForeignKey("characters.id"))
    sold_at: Mapped[datetime] = mapped_column(UTCDateTime)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    drop: Mapped[Drop] = relationship(back_populates="sale")


class Period(db.Model):
    __tablename__ = "periods"
    __table_args__ = (UniqueConstraint("clan_id", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clan_id: Mapped[int] = mapped_column(ForeignKey("clans.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)  # first day, clan timezone
    ends_on: Mapped[date] = mapped_column(Date)  # last day, inclusive
    status: Mapped[PeriodStatus] = mapped_column(_enum(PeriodStatus), default=PeriodStatus.OPEN)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # How many times the period was closed; a reopened period closes again as round n + 1.
    close_count: Mapped[int] = mapped_column(Integer, default=0)
    # Why the leader closed the month before its last day (empty for a close after it).
    early_close_reason: Mapped[str | None] = mapped_column(Text)
    # What the last close showed and stored (rates, plan, per-sale comparison, saving): a
    # closed month's pages read these, whatever is edited later.
    close_figures: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class JournalEntry(db.Model):
    """One balanced event. Its postings sum to zero; it never changes once written."""

    __tablename__ = "journal_entries"
    __table_args__ = (UniqueConstraint("clan_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clan_id: Mapped[int] = mapped_column(ForeignKey("clans.id"), index=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"), index=True)
    kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    memo: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text, default="")  # required for corrections
    # What the entry is about, for "why" links: ("drop", 12), ("transfer", 3), ...
    source_type: Mapped[str | None] = mapped_column(String(32))
    source_id: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    postings: Mapped[list[Posting]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="Posting.id"
    )


class Posting(db.Model):
    """One line of an entry: ``amount`` > 0 credits the account (the clan owes it more)."""

    __tablename__ = "postings"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    clan_id: Mapped[int] = mapped_column(ForeignKey("clans.id"), index=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"), index=True)
    account_kind: Mapped[AccountKind] = mapped_column(_enum(AccountKind, length=16))
    character_id: Mapped[int | None] = mapped_column(ForeignKey("characters.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)

    entry: Mapped[JournalEntry] = relationship(back_populates="postings")


class Transfer(db.Model):
    """A planned settlement transfer: the receiver lists a junk item at ``gross`` and the
    payer buys it. planned -> paid (payer) -> confirmed (receiver)."""

    __tablename__ = "transfers"
    __table_args__ = (
        # One plan per close: the close number and the position in the plan are unique.
        UniqueConstraint("period_id", "close_round", "seq"),
        CheckConstraint("net >= 0 AND gross >= 0 AND fee >= 0", "amounts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clan_id: Mapped[int] = mapped_column(ForeignKey("clans.id"), index=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"), index=True)
    # Which close of the period planned it (a reopened and closed again period has two).
    close_round: Mapped[int] = mapped_column(Integer, default=1)
    seq: Mapped[int] = mapped_column(Integer, default=1)  # position in the plan
    payer_kind: Mapped[AccountKind] = mapped_column(
        _enum(AccountKind, length=16), default=AccountKind.MEMBER
    )
    payer_character_id: Mapped[int | None] = mapped_column(ForeignKey("characters.id"))
    receiver_kind: Mapped[AccountKind] = mapped_column(
        _enum(AccountKind, length=16), default=AccountKind.MEMBER
    )
    receiver_character_id: Mapped[int | None] = mapped_column(ForeignKey("characters.id"))
    net: Mapped[int] = mapped_column(BigInteger)  # what the receiver must end up with
    gross: Mapped[int] = mapped_column(BigInteger)  # the listing price
    fee: Mapped[int] = mapped_column(BigInteger)
    # The terms it was planned under, so a later settings change cannot alter it.
    fee_bps: Mapped[int] = mapped_column(Integer, default=0)
    fee_policy: Mapped[FeePolicy] = mapped_column(
        _enum(FeePolicy, length=16), default=FeePolicy.PAYER
    )
    status: Mapped[TransferStatus] = mapped_column(
        _enum(TransferStatus), default=TransferStatus.PLANNED
    )
    paid_gross: Mapped[int | None] = mapped_column(BigInteger)  # what was actually paid
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    screenshot: Mapped[str | None] = mapped_column(String(200))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    # "Why": the balances of the zero-sum group this transfer settles, as planned:
    # ``{"group": [[kind, name, balance, with_fund], ...]}`` (names as at the close).
    why: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
