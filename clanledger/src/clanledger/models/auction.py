"""Internal auctions (內標) of a drop and their bids. Amounts are whole diamonds."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clanledger.domain.auction import Eligibility
from clanledger.extensions import db
from clanledger.models.accounts import _enum
from clanledger.models.types import UTCDateTime, utcnow


class AuctionStatus(enum.StrEnum):
    OPEN = "open"
    WON = "won"  # booked as an internal purchase by the highest bidder
    NO_BIDS = "no_bids"  # ended without a bid: the item went back to its holder
    CANCELLED = "cancelled"  # an officer cancelled it, with a reason


class Auction(db.Model):
    """One internal auction of a drop. The row is locked while a bid or the settlement is
    written, so bids on one auction are serialised."""

    __tablename__ = "auctions"
    __table_args__ = (
        CheckConstraint("start_price >= 1 AND increment >= 1", "auction_prices"),
        CheckConstraint("snipe_window_s >= 0 AND snipe_extension_s >= 0", "auction_snipe"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clan_id: Mapped[int] = mapped_column(ForeignKey("clans.id"), index=True)
    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id"), index=True)
    status: Mapped[AuctionStatus] = mapped_column(
        _enum(AuctionStatus, length=16), default=AuctionStatus.OPEN, index=True
    )
    start_price: Mapped[int] = mapped_column(BigInteger)
    increment: Mapped[int] = mapped_column(BigInteger)
    sealed: Mapped[bool] = mapped_column(default=False)
    eligibility: Mapped[Eligibility] = mapped_column(
        _enum(Eligibility, length=16), default=Eligibility.CLAN
    )
    snipe_window_s: Mapped[int] = mapped_column(Integer, default=300)
    snipe_extension_s: Mapped[int] = mapped_column(Integer, default=300)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The end as opened; ``ends_at`` moves later when a late bid extends it.
    planned_end: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    winning_bid_id: Mapped[int | None] = mapped_column(
        ForeignKey("bids.id", use_alter=True, ondelete="SET NULL")
    )
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales.id"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    bids: Mapped[list[Bid]] = relationship(
        back_populates="auction", order_by="Bid.id", foreign_keys="Bid.auction_id"
    )


class Bid(db.Model):
    """One bid; never edited. ``id`` orders bids in time (the earlier wins a tie)."""

    __tablename__ = "bids"
    __table_args__ = (CheckConstraint("amount >= 1", "bid_amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clan_id: Mapped[int] = mapped_column(ForeignKey("clans.id"), index=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id"), index=True)
    character_id: Mapped[int] = mapped_column(ForeignKey("characters.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    auction: Mapped[Auction] = relationship(back_populates="bids", foreign_keys=[auction_id])
