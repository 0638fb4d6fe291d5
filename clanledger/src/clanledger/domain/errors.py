"""Domain exceptions. Every message says what was wrong and what to do instead.

All of them derive from :class:`DomainError`, itself a ``ValueError``, so a caller can catch
one class to turn any bad input into a form error.
"""

from __future__ import annotations


class DomainError(ValueError):
    """Bad input to the ledger or settlement rules; the message is meant for the user."""


class InvalidAmount(DomainError):
    """An amount of diamonds (or a weight) is negative, fractional or not a number."""


class PriceOutOfRange(InvalidAmount):
    """A price is a whole number of diamonds but not between ``MIN_PRICE`` and ``MAX_PRICE``."""

    def __init__(self, message: str, *, too_high: bool) -> None:
        super().__init__(message)
        self.too_high = too_high


class InvalidWeight(InvalidAmount):
    """A participant weight cannot be parsed or is negative."""


class EmptyParticipants(DomainError):
    """A split or sale has nobody to share the diamonds with."""


class ZeroTotalWeight(DomainError):
    """Every participant has weight 0, so there is no way to split."""


class InvalidRate(DomainError):
    """A fee or cut rate is outside 0 % to 99.99 % or finer than a basis point."""


class NoRateInForce(DomainError):
    """A rate schedule was asked for a day before its first rate took effect."""


class PeriodClosed(DomainError):
    """Something was posted into a period that is already closed."""


class UnbalancedEntry(DomainError):
    """A set of postings, or of balances to settle, does not sum to zero."""


class NestedWallet(DomainError):
    """A wallet grouped under a key that is itself grouped under another (one level only)."""
