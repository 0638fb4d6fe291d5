"""Internal auction (內標) rules: what a bid must be, who wins, when the auction ends.

Pure: no Flask or SQLAlchemy. Amounts are whole diamonds; times are aware datetimes.

* An **open** auction shows its current price: the first bid is at least the starting
  price, every later one at least the highest bid plus the minimum increment.
* A **sealed** auction shows no price: every bid is at least the starting price, and a
  bidder who bids again must beat their own earlier bid by the increment.
* The **highest** bid wins; between equal bids the **earlier** one (lower sequence) wins.
* **Anti-sniping** (open auctions): a bid placed within ``window`` of the end moves the end
  to ``extension`` after the bid (never earlier than it was). A window of 0 turns it off.
* **Bidding limit**: with a clan limit ``credit`` (diamonds, or ``None`` for no limit), a
  bidder's bid plus what they have committed in other running auctions (their bid where
  they lead an open auction, their best bid in a sealed one) may be at most
  their balance plus ``credit``. A balance is what the clan owes the member (negative when
  the member owes the clan), so ``credit = 0`` means "only what you have".
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from clanledger.domain.errors import DomainError
from clanledger.domain.messages import N_

MAX_INCREMENT = 10**10
MAX_WINDOW = timedelta(hours=1)
MAX_DURATION = timedelta(days=14)
MIN_DURATION = timedelta(minutes=5)


class Eligibility(enum.StrEnum):
    """Who may bid: members with a character on the kill's roll call, or the whole clan."""

    ATTENDEES = "attendees"
    CLAN = "clan"


class BidRefused(DomainError):
    """A bid the rules refuse; ``message`` is an ``N_`` msgid, ``params`` fill it in."""

    def __init__(self, message: str, **params: int) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


@dataclass(frozen=True)
class AuctionRules:
    """The terms an auction was opened with."""

    start_price: int
    increment: int
    sealed: bool = False
    snipe_window: timedelta = timedelta(minutes=5)
    snipe_extension: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if self.start_price < 1 or not 1 <= self.increment <= MAX_INCREMENT:
            raise ValueError("start price and increment must be at least 1 diamond")
        if not timedelta(0) <= self.snipe_window <= MAX_WINDOW:
            raise ValueError("the anti-sniping window is 0 to 60 minutes")
        if not timedelta(0) <= self.snipe_extension <= MAX_WINDOW:
            raise ValueError("the anti-sniping extension is 0 to 60 minutes")


@dataclass(frozen=True)
class Bid:
    """A bid as the rules see it: ``seq`` orders bids in time (the earlier is lower)."""

    seq: int
    bidder: int
    amount: int


def winner(bids: Iterable[Bid]) -> Bid | None:
    """The winning bid: the highest amount, the earlier bid between equal amounts."""
    return min(bids, key=lambda b: (-b.amount, b.seq), default=None)


def minimum_bid(rules: AuctionRules, bids: Iterable[Bid], bidder: int) -> int:
    """The smallest bid ``bidder`` may place now."""
    bids = list(bids)
    if rules.sealed:
        own = [b.amount for b in bids if b.bidder == bidder]
        return max(own) + rules.increment if own else rules.start_price
    best = winner(bids)
    return best.amount + rules.increment if best else rules.start_price


def check_bid(rules: AuctionRules, bids: Iterable[Bid], bidder: int, amount: int) -> None:
    """Refuse a bid below :func:`minimum_bid`.

    Raises:
        BidRefused: the amount is too low.
    """
    least = minimum_bid(rules, bids, bidder)
    if amount < least:
        raise BidRefused(N_("A bid must be at least %(minimum)s diamonds."), minimum=least)


def extended_end(rules: AuctionRules, ends_at: datetime, bid_at: datetime) -> datetime:
    """The end after a bid at ``bid_at``: moved to ``bid_at + extension`` when the bid came
    within the anti-sniping window of an open auction, else unchanged."""
    if rules.sealed or rules.snipe_window <= timedelta(0):
        return ends_at
    if ends_at - bid_at <= rules.snipe_window:
        return max(ends_at, bid_at + rules.snipe_extension)
    return ends_at


def check_limit(amount: int, balance: int, committed: int, credit: int | None) -> None:
    """Refuse a bid over the clan's bidding limit (``credit`` ``None``: no limit).

    Args:
        balance: what the clan owes the bidder now (negative: what they owe).
        committed: what the bidder has committed in the clan's other running auctions.

    Raises:
        BidRefused: ``amount + committed`` is over ``balance + credit``.
    """
    if credit is None:
        return
    room = balance + credit - committed
    if amount > room:
        raise BidRefused(
            N_("Your bidding limit is %(room)s diamonds (your balance plus the clan's allowance)."),
            room=max(room, 0),
        )


def check_eligible(eligibility: Eligibility, bidder_at_kill: bool) -> None:
    """Refuse a bidder who was not at the kill of an attendees-only auction.

    Raises:
        BidRefused: the auction is for the kill's participants and the bidder was not there.
    """
    if eligibility == Eligibility.ATTENDEES and not bidder_at_kill:
        raise BidRefused(N_("Only members who were at the kill may bid on this item."))


def check_duration(opened_at: datetime, ends_at: datetime) -> None:
    """An auction runs from 5 minutes to 14 days.

    Raises:
        BidRefused: the end is too soon or too far.
    """
    if ends_at - opened_at < MIN_DURATION:
        raise BidRefused(N_("The auction must end at least 5 minutes from now."))
    if ends_at - opened_at > MAX_DURATION:
        raise BidRefused(N_("An auction runs at most 14 days."))
