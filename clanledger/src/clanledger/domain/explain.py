"""Explanations: the postings behind a balance, and the balances behind a transfer.

Functions here accept any posting-like objects (the domain :class:`LedgerPosting`, or the service
layer's database rows) that have ``account`` and ``amount`` attributes, and hand them back
unchanged, so a statement can link each line to its kill, item or adjustment.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from clanledger.domain.settlement import PlannedTransfer, SettlementPlan, explain_transfer

K = TypeVar("K", bound=Hashable)


class PostingLike(Protocol):
    """Anything with an account and a signed amount of diamonds."""

    account: Any
    amount: int


P = TypeVar("P", bound=PostingLike)


@dataclass(frozen=True)
class RunningLine(Generic[P]):
    """One posting of an account and the running balance after it."""

    posting: P
    running: int


@dataclass(frozen=True)
class BalanceExplanation(Generic[P]):
    """Why an account's balance is what it is: its postings in order, with running totals.

    Attributes:
        account: the account explained.
        opening: the balance before the first line (0 unless given).
        lines: its postings with the running balance after each.
        balance: the closing balance (the last running balance, or ``opening``).
    """

    account: Any
    opening: int
    lines: tuple[RunningLine[P], ...]

    @property
    def balance(self) -> int:
        """The balance after the last line."""
        return self.lines[-1].running if self.lines else self.opening

    @property
    def credits(self) -> int:
        """Sum of the positive lines (what the clan came to owe the account)."""
        return sum(line.posting.amount for line in self.lines if line.posting.amount > 0)

    @property
    def debits(self) -> int:
        """Sum of the negative lines (what the account came to hold for others)."""
        return sum(line.posting.amount for line in self.lines if line.posting.amount < 0)


def explain_balance(
    postings: Iterable[P], account: object, opening: int = 0
) -> BalanceExplanation[P]:
    """The postings of ``account`` among ``postings`` (in the given order) with a running
    balance, so that the statement's lines visibly add up to the balance."""
    running = opening
    lines = []
    for posting in postings:
        if posting.account == account:
            running += posting.amount
            lines.append(RunningLine(posting, running))
    return BalanceExplanation(account, opening, tuple(lines))


@dataclass(frozen=True)
class TransferExplanation(Generic[K]):
    """Why a transfer is in the plan.

    Attributes:
        transfer: the transfer.
        group: the balances it helps settle; they sum to zero.
        transfers: every transfer of the plan that settles the same group.
    """

    transfer: PlannedTransfer[K]
    group: dict[K, int]
    transfers: tuple[PlannedTransfer[K], ...]


def explain_plan_transfer(
    plan: SettlementPlan[K], transfer: PlannedTransfer[K]
) -> TransferExplanation[K]:
    """The zero-sum group behind ``transfer`` and the group's other transfers.

    Raises:
        InvalidAmount: the transfer is not part of the plan.
    """
    group = explain_transfer(plan, transfer)
    siblings = tuple(t for t in plan.transfers if t.payer in group)
    return TransferExplanation(transfer, group, siblings)
