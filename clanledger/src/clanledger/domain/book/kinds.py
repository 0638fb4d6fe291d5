"""What the book's rows can be; the values are what the database stores."""

from __future__ import annotations

from enum import StrEnum

from clanledger.domain.messages import N_


class AccountType(StrEnum):
    CASH = "cash"
    BANK = "bank"
    CREDIT_CARD = "credit_card"  # a liability: its balance is < 0 while something is owed
    E_WALLET = "e_wallet"  # LINE Pay, 街口, 全支付...
    DIAMONDS = "diamonds"  # Lineage W diamonds; the clan link writes into one of these

    @property
    def label(self) -> str:
        return ACCOUNT_TYPE_LABELS[self]


ACCOUNT_TYPE_LABELS: dict[AccountType, str] = {
    AccountType.CASH: N_("Cash"),
    AccountType.BANK: N_("Bank account"),
    AccountType.CREDIT_CARD: N_("Credit card"),
    AccountType.E_WALLET: N_("E-wallet"),
    AccountType.DIAMONDS: N_("Diamonds"),
}


class CategoryKind(StrEnum):
    EXPENSE = "expense"
    INCOME = "income"


class TxnKind(StrEnum):
    EXPENSE = "expense"
    INCOME = "income"
    TRANSFER = "transfer"  # between own accounts; a credit-card payment is one
    OPENING = "opening"  # an account's opening balance (against equity)
    CLAN = "clan"  # mirrored from a clan's ledger: read-only

    @property
    def label(self) -> str:
        return TXN_KIND_LABELS[self]


TXN_KIND_LABELS: dict[TxnKind, str] = {
    TxnKind.EXPENSE: N_("Expense"),
    TxnKind.INCOME: N_("Income"),
    TxnKind.TRANSFER: N_("Transfer"),
    TxnKind.OPENING: N_("Opening balance"),
    TxnKind.CLAN: N_("Clan"),
}


class Frequency(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    YEARLY = "yearly"
