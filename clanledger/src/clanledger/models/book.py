"""The personal book (記帳): one user's accounts, categories, transactions, recurring rules,
budgets, imports and their own audit trail.

Every table carries ``user_id`` and none carries ``clan_id``: no clan role reaches a row of
the book, and the clan audit listener never records it. Amounts are whole numbers in the
minor unit of their currency (``minor_digits`` of the account: TWD 0 by default, USD 2).

A transaction is balanced per currency: its postings (accounts, categories, and equity for
an opening balance or a currency conversion) sum to exactly zero.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clanledger.domain.book.kinds import AccountType, CategoryKind, Frequency, TxnKind
from clanledger.extensions import db
from clanledger.models.accounts import _enum
from clanledger.models.types import UTCDateTime, utcnow


class BookProfile(db.Model):
    """A user's book settings (one row, made on first visit)."""

    __tablename__ = "book_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    default_currency: Mapped[str] = mapped_column(String(8), default="TWD")
    # The clan link: the diamonds account that mirrors the user's clan ledger (NULL: off).
    clan_link_account_id: Mapped[int | None] = mapped_column(ForeignKey("book_accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BookAccount(db.Model):
    """Cash, a bank account, a credit card, an e-wallet or diamonds, in one currency."""

    __tablename__ = "book_accounts"
    __table_args__ = (
        UniqueConstraint("user_id", "name"),
        UniqueConstraint("user_id", "link_ref"),
        CheckConstraint("minor_digits >= 0 AND minor_digits <= 4", "minor_digits"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    type: Mapped[AccountType] = mapped_column(_enum(AccountType, length=16))
    currency: Mapped[str] = mapped_column(String(8))
    # Digits after the point of the amounts stored for this account: 0 stores NT$ 120 as
    # 120; 2 stores US$ 1.50 as 150. Fixed once the account has transactions.
    minor_digits: Mapped[int] = mapped_column(Integer, default=0)
    # A credit card's statement closing day (1-31); NULL for other accounts.
    closing_day: Mapped[int | None] = mapped_column(Integer)
    archived: Mapped[bool] = mapped_column(default=False)
    # Mirror accounts (the clan link) are written only by the mirror, never by hand.
    read_only: Mapped[bool] = mapped_column(default=False)
    # What a mirror account mirrors: "clan:<clan id>" for the clan link's claim on a clan
    # (never a clan_id column: the clan audit listener records every row that has one).
    link_ref: Mapped[str | None] = mapped_column(String(64))
    sort: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class BookCategory(db.Model):
    """An expense or income category; ``parent_id`` makes it a subcategory (two levels)."""

    __tablename__ = "book_categories"
    __table_args__ = (UniqueConstraint("user_id", "parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("book_categories.id"))
    kind: Mapped[CategoryKind] = mapped_column(_enum(CategoryKind, length=16))
    name: Mapped[str] = mapped_column(String(64))
    # A default category's stable code ("food"), so imports and the clan link find it
    # whatever the user renamed it to; NULL for a category the user made.
    code: Mapped[str | None] = mapped_column(String(32))
    archived: Mapped[bool] = mapped_column(default=False)
    sort: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped[BookCategory | None] = relationship(remote_side=[id])


class BookImport(db.Model):
    """One import run (a CSV file or an e-invoice export): its transactions carry its id, so
    the whole run can be shown or undone at once.

    An upload is staged as ``pending`` with the file's bytes in ``content`` (so the mapping
    step and the confirm may reach any web worker); confirming makes it ``done`` and drops
    the bytes; undoing it makes it ``undone``."""

    __tablename__ = "book_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # csv | einvoice
    filename: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="done")
    account_id: Mapped[int | None] = mapped_column(ForeignKey("book_accounts.id"))
    # The category chosen on the form (lines without one of their own go there).
    category_id: Mapped[int | None] = mapped_column(ForeignKey("book_categories.id"))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_imported: Mapped[int] = mapped_column(Integer, default=0)
    rows_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    # The column mapping used, so the next file from the same bank is mapped the same way.
    mapping: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BookTransaction(db.Model):
    """One event of the book: an expense, an income, a transfer between own accounts, an
    opening balance or a line mirrored from a clan. Deleting sets ``deleted_at`` (undo
    clears it); reports and balances skip deleted transactions."""

    __tablename__ = "book_transactions"
    __table_args__ = (UniqueConstraint("user_id", "source_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[TxnKind] = mapped_column(_enum(TxnKind, length=16))
    occurred_on: Mapped[date] = mapped_column(Date, index=True)
    payee: Mapped[str] = mapped_column(String(128), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # Space-separated tags, each without spaces ("旅行 日本"), kept sorted.
    tags: Mapped[str] = mapped_column(String(255), default="")
    # Where it came from, unique per user: "recurring:<id>:<date>", "clan:<entry id>",
    # "einvoice:<invoice number>", "csv:<fingerprint>#<n>"; NULL for a hand entry.
    source_ref: Mapped[str | None] = mapped_column(String(128))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("book_imports.id"), index=True)
    recurring_id: Mapped[int | None] = mapped_column(ForeignKey("book_recurring.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    postings: Mapped[list[BookPosting]] = relationship(
        back_populates="transaction", cascade="all, delete-orphan", order_by="BookPosting.id"
    )

    __mapper_args__ = {"version_id_col": version}


class BookPosting(db.Model):
    """One line of a transaction: an account, a category, or neither (equity: an opening
    balance or the other side of a currency conversion). ``amount`` is in the minor unit
    of ``currency``; > 0 adds to an account (or is spending on an expense category)."""

    __tablename__ = "book_postings"
    __table_args__ = (CheckConstraint("account_id IS NULL OR category_id IS NULL", "one_side"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("book_transactions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("book_accounts.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("book_categories.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(8))
    memo: Mapped[str] = mapped_column(String(200), default="")

    transaction: Mapped[BookTransaction] = relationship(back_populates="postings")


class BookRecurring(db.Model):
    """A rule that makes a transaction on its dates (rent on the 5th, a yearly fee).

    ``day`` is the day of the month for monthly and yearly rules (31 means the month's last
    day in shorter months); ``next_on`` is the next date not yet made."""

    __tablename__ = "book_recurring"
    __table_args__ = (
        CheckConstraint("amount > 0", "amount"),
        CheckConstraint("every >= 1", "every"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[TxnKind] = mapped_column(_enum(TxnKind, length=16))
    amount: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int] = mapped_column(ForeignKey("book_accounts.id"))
    to_account_id: Mapped[int | None] = mapped_column(ForeignKey("book_accounts.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("book_categories.id"))
    payee: Mapped[str] = mapped_column(String(128), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    frequency: Mapped[Frequency] = mapped_column(_enum(Frequency, length=16))
    every: Mapped[int] = mapped_column(Integer, default=1)
    day: Mapped[int | None] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    next_on: Mapped[date | None] = mapped_column(Date, index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class BookBudget(db.Model):
    """A spending limit for an expense category: for one ``month`` (its first day), or for
    every month when ``month`` is NULL (a month's own row wins)."""

    __tablename__ = "book_budgets"
    __table_args__ = (
        UniqueConstraint("user_id", "category_id", "month"),
        CheckConstraint("amount >= 0", "amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("book_categories.id"))
    month: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(8))


class BookAudit(db.Model):
    """The personal audit trail: every change to the book, with the values before and after
    (what an undo restores). Only its owner ever reads it."""

    __tablename__ = "book_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))  # create | update | delete | restore | ...
    entity: Mapped[str] = mapped_column(String(32))  # transaction | account | category | ...
    entity_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(String(255), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
