"""Balanced transactions, built from what a person enters.

Sign convention (per currency, the lines of one transaction sum to exactly zero):

* an **account** line > 0 adds money to the account (cash received, a card's debt paid
  down); < 0 takes it out (spent, or charged to a card);
* an **expense category** line > 0 is spending; an **income category** line < 0 is income;
* an **equity** line (no account, no category) is the other side of an opening balance or of
  a currency conversion.

So an expense of NT$ 120 from cash is ``cash -120, 餐飲 +120``; a card payment of NT$ 5,000
is ``bank -5000, card +5000``; a split puts several category lines against one account line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from clanledger.domain.book.errors import BookInputError
from clanledger.domain.book.money import MAX_AMOUNT
from clanledger.domain.messages import N_


@dataclass(frozen=True)
class Line:
    """One posting: ``account_id`` or ``category_id`` or neither (equity)."""

    account_id: int | None
    category_id: int | None
    amount: int
    currency: str
    memo: str = ""

    def __post_init__(self) -> None:
        if self.account_id is not None and self.category_id is not None:
            raise ValueError("a line is an account, a category or equity, not two of them")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError(f"amounts are whole minor units, got {self.amount!r}")


@dataclass(frozen=True)
class Split:
    """One category's part of an expense or income; ``amount`` > 0 (a discount line of an
    e-invoice may be < 0, as long as the whole is > 0)."""

    category_id: int
    amount: int
    memo: str = ""


def expense_lines(account_id: int, currency: str, splits: Sequence[Split]) -> list[Line]:
    """Spending from ``account_id``, split over categories (one split is a plain expense)."""
    total = _split_total(splits)
    lines = [Line(account_id, None, -total, currency)]
    lines += [Line(None, s.category_id, s.amount, currency, s.memo) for s in splits]
    return lines


def income_lines(account_id: int, currency: str, splits: Sequence[Split]) -> list[Line]:
    """Money into ``account_id`` from income categories."""
    total = _split_total(splits)
    lines = [Line(account_id, None, total, currency)]
    lines += [Line(None, s.category_id, -s.amount, currency, s.memo) for s in splits]
    return lines


def transfer_lines(
    from_id: int,
    from_currency: str,
    to_id: int,
    to_currency: str,
    amount: int,
    received: int | None = None,
) -> list[Line]:
    """Money moved between two own accounts (a card payment: bank to card). Between two
    currencies, ``received`` is what arrived (in the destination's minor unit) and two
    equity lines carry the conversion.

    Raises:
        BookInputError: the same account twice, a bad amount, or no ``received`` amount
            across currencies.
    """
    if from_id == to_id:
        raise BookInputError(N_("Choose two different accounts for a transfer."), field="to")
    _require_positive(amount)
    if from_currency == to_currency:
        if received is not None and received != amount:
            raise BookInputError(
                N_("Both accounts use %(currency)s: the amount received is the amount sent."),
                {"currency": from_currency},
                field="received",
            )
        return [Line(from_id, None, -amount, from_currency), Line(to_id, None, amount, to_currency)]
    if received is None:
        raise BookInputError(
            N_("The accounts use %(a)s and %(b)s: enter the amount received too."),
            {"a": from_currency, "b": to_currency},
            field="received",
        )
    _require_positive(received, "received")
    return [
        Line(from_id, None, -amount, from_currency),
        Line(None, None, amount, from_currency, "conversion"),
        Line(None, None, -received, to_currency, "conversion"),
        Line(to_id, None, received, to_currency),
    ]


def opening_lines(account_id: int, currency: str, balance: int) -> list[Line]:
    """An account's opening balance (< 0 for a card that already owes)."""
    if balance == 0:
        raise BookInputError(N_("The amount cannot be 0."), field="amount")
    if abs(balance) > MAX_AMOUNT:
        raise BookInputError(N_("The amount is too large for one transaction."), field="amount")
    return [Line(account_id, None, balance, currency), Line(None, None, -balance, currency)]


def unbalanced(lines: Iterable[Line]) -> dict[str, int]:
    """Per currency, what the lines do not balance by (empty when balanced)."""
    sums: dict[str, int] = defaultdict(int)
    for line in lines:
        sums[line.currency] += line.amount
    return {cur: total for cur, total in sums.items() if total}


def require_balanced(lines: Sequence[Line]) -> None:
    """Raise unless ``lines`` sum to zero in each currency (a programming error)."""
    off = unbalanced(lines)
    if off:
        raise ValueError(f"unbalanced transaction: {off}")


def account_balances(lines: Iterable[Line]) -> dict[int, int]:
    """The balance of every account the lines touch."""
    out: dict[int, int] = defaultdict(int)
    for line in lines:
        if line.account_id is not None:
            out[line.account_id] += line.amount
    return dict(out)


def _split_total(splits: Sequence[Split]) -> int:
    if not splits:
        raise BookInputError(N_("Choose a category."), field="category")
    for split in splits:
        if isinstance(split.amount, bool) or not isinstance(split.amount, int):
            raise TypeError(f"amounts are whole minor units, got {split.amount!r}")
        if split.amount == 0:
            raise BookInputError(N_("A split line cannot be 0."), field="splits")
        if abs(split.amount) > MAX_AMOUNT:
            raise BookInputError(N_("The amount is too large for one transaction."), field="amount")
    total = sum(s.amount for s in splits)
    if total <= 0:
        raise BookInputError(N_("The split lines must add up to more than 0."), field="splits")
    if total > MAX_AMOUNT:
        raise BookInputError(N_("The amount is too large for one transaction."), field="amount")
    return total


def check_split_total(total: int, splits: Sequence[Split]) -> None:
    """Raise unless the split lines add up to ``total`` (the amount typed first)."""
    parts = _split_total(splits)
    if parts != total:
        raise BookInputError(
            N_("The split lines add up to %(parts)s, not the total %(total)s."),
            {"parts": parts, "total": total},
            field="splits",
        )


def _require_positive(amount: int, field: str = "amount") -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"amounts are whole minor units, got {amount!r}")
    if amount <= 0:
        raise BookInputError(N_("The amount must be more than 0."), field=field)
    if amount > MAX_AMOUNT:
        raise BookInputError(N_("The amount is too large for one transaction."), field=field)
