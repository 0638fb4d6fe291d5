"""Accounting periods (a month, usually): postings may only land in an open period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from clanledger.domain.errors import DomainError, PeriodClosed


@dataclass(frozen=True)
class AccountingPeriod:
    """The days ``start`` (inclusive) to ``end`` (exclusive), open or closed."""

    start: date
    end: date
    closed: bool = False

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise DomainError(
                f"a period must end after it starts: {self.start.isoformat()} to "
                f"{self.end.isoformat()}"
            )

    @classmethod
    def month(cls, year: int, month: int, closed: bool = False) -> AccountingPeriod:
        """The calendar month ``year-month``."""
        start = date(year, month, 1)
        end = date(year + month // 12, month % 12 + 1, 1)
        return cls(start, end, closed)

    def __contains__(self, day: date) -> bool:
        return self.start <= day < self.end

    def __str__(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"

    def require_open(self, day: date, what: str = "a sale") -> None:
        """Check that ``what`` dated ``day`` may be posted into this period.

        Raises:
            PeriodClosed: the period is closed.
            DomainError: ``day`` is outside the period.
        """
        if day not in self:
            raise DomainError(
                f"{what} dated {day.isoformat()} does not belong to the period {self}"
            )
        if self.closed:
            raise PeriodClosed(
                f"{what} dated {day.isoformat()} falls in the closed period {self}; "
                "record it in the open period as a correction, or ask the leader to reopen"
            )
