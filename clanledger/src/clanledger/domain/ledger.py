"""Double-entry postings: every event becomes postings that sum to exactly zero.

Sign convention: an account's balance > 0 means the clan owes that account diamonds (a
creditor, paid at settlement); < 0 means the account holds diamonds that belong to others
(a debtor, pays at settlement). A period balance comes from the postings alone
(:func:`balances`).

Accounts are members (one per character), the clan fund, and FEES, the exchange: it shows what
the exchange kept from every settlement transfer and who was charged for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import total_ordering

from clanledger.domain.distribution import SaleDistribution
from clanledger.domain.errors import InvalidAmount, UnbalancedEntry
from clanledger.domain.fees import FeePolicy
from clanledger.domain.messages import N_
from clanledger.domain.money import require_diamonds


class AccountKind(StrEnum):
    """What an account is; the value is what the database stores."""

    MEMBER = "member"
    FUND = "fund"
    FEES = "fees"


ACCOUNT_LABELS: dict[AccountKind, str] = {
    AccountKind.FUND: N_("Clan fund"),
    AccountKind.FEES: N_("Exchange fees"),
}


# What kind of account it is, in words (the ledger export's "Account" column).
ACCOUNT_KIND_LABELS: dict[AccountKind, str] = {AccountKind.MEMBER: N_("Member"), **ACCOUNT_LABELS}


def account_label(
    kind: AccountKind | str,
    name: str | None = None,
    translate: Callable[[str], str] | None = None,
) -> str:
    """How an account is shown, on pages and in exports: a member by its character's
    ``name``; the clan fund and the exchange fees by their label passed through
    ``translate`` (pages pass ``gettext``), or, without ``translate``, by the account kind
    code (``fund``, ``fees``) that spreadsheet exports use."""
    kind = AccountKind(kind)
    if kind is AccountKind.MEMBER:
        return name or ""
    return translate(ACCOUNT_LABELS[kind]) if translate else kind.value


_KIND_RANK = {AccountKind.MEMBER: 0, AccountKind.FUND: 1, AccountKind.FEES: 2}


@total_ordering
@dataclass(frozen=True)
class Account:
    """A ledger account: a member (``id`` is the character id), the clan fund or FEES.

    Accounts sort members first (by id), then the fund, then FEES.
    """

    kind: AccountKind
    id: int | None = None

    def __post_init__(self) -> None:
        if self.kind is AccountKind.MEMBER:
            if isinstance(self.id, bool) or not isinstance(self.id, int):
                raise InvalidAmount(f"a member account needs a character id, got {self.id!r}")
        elif self.id is not None:
            raise InvalidAmount(f"the {self.kind.value} account has no id, got {self.id!r}")

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Account):
            return NotImplemented
        return (_KIND_RANK[self.kind], self.id or 0) < (_KIND_RANK[other.kind], other.id or 0)

    def __str__(self) -> str:
        return f"member {self.id}" if self.kind is AccountKind.MEMBER else self.kind.value


def member(character_id: int) -> Account:
    """The account of one character."""
    return Account(AccountKind.MEMBER, character_id)


FUND = Account(AccountKind.FUND)
FEES = Account(AccountKind.FEES)


class PostingRole(StrEnum):
    """Why a posting exists; statements translate it into a line label."""

    SALE_RECEIVED = "sale_received"  # the holder received the sale price (debit)
    PURCHASE_PRICE = "purchase_price"  # an internal buyer owes the agreed price (debit)
    SHARE = "share"  # a participant's share of a sale (credit)
    FUND_CUT = "fund_cut"  # the clan fund's cut of a sale (credit)
    TRANSFER_PAID = "transfer_paid"  # the payer bought the listing (credit)
    TRANSFER_RECEIVED = "transfer_received"  # the receiver got the price minus the fee (debit)
    EXCHANGE_FEE = "exchange_fee"  # the fee the exchange kept, on FEES (debit)
    FEE_CHARGED = "fee_charged"  # the fee charged to whoever bears it (debit) ...
    FEE_RECOVERED = "fee_recovered"  # ... and cleared on FEES (credit)
    ADJUSTMENT = "adjustment"
    REVERSAL = "reversal"
    OPENING = "opening"  # a balance carried in from the previous period


@dataclass(frozen=True)
class LedgerPosting:
    """One line of a journal entry: ``amount`` diamonds on ``account`` (sign as above)."""

    account: Account
    amount: int
    role: PostingRole = PostingRole.ADJUSTMENT


def sale_postings(holder: Account, distribution: SaleDistribution[Account]) -> list[LedgerPosting]:
    """Postings of an exchange sale: the holder owes what they received; each participant is
    credited their share; the clan fund is credited its cut. Zero amounts are left out."""
    return _distribution_postings(holder, distribution, PostingRole.SALE_RECEIVED)


def internal_purchase_postings(
    buyer: Account, distribution: SaleDistribution[Account]
) -> list[LedgerPosting]:
    """Postings of an internal purchase at an agreed price (``distribution.received``):
    no exchange fee; the buyer's balance pays the price, shared out as for a sale."""
    return _distribution_postings(buyer, distribution, PostingRole.PURCHASE_PRICE)


def _distribution_postings(
    debtor: Account, distribution: SaleDistribution[Account], role: PostingRole
) -> list[LedgerPosting]:
    postings = [LedgerPosting(debtor, -distribution.received, role)]
    if distribution.fund:
        postings.append(LedgerPosting(FUND, distribution.fund, PostingRole.FUND_CUT))
    postings.extend(
        LedgerPosting(account, share, PostingRole.SHARE)
        for account, share in distribution.shares.items()
        if share
    )
    return _nonzero_checked(postings)


def transfer_postings(
    payer: Account, receiver: Account, gross: int, fee: int, policy: FeePolicy
) -> list[LedgerPosting]:
    """Postings of one settlement transfer through the exchange.

    The receiver listed an item at ``gross`` and the payer bought it; the exchange kept
    ``fee``. The payer is credited ``gross``, the receiver debited ``gross - fee``, FEES
    debited ``fee`` (what the exchange holds). The fee is then charged to whoever bears it
    under ``policy`` (payer, receiver or the clan FUND) and cleared on FEES, so FEES always
    balances to 0 while its postings keep the record of every fee.

    With the plan's prices (see :func:`~clanledger.domain.fees.transfer_terms`) a transfer of
    ``net`` moves the payer's balance by ``+net`` and the receiver's by ``-net`` under PAYER and
    RECEIVER; under FUND the payer is credited ``net + fee`` and the fund charged ``fee``.

    Raises:
        InvalidAmount: ``gross`` or ``fee`` negative, or ``fee > gross``.
    """
    require_diamonds(gross, "listing price")
    require_diamonds(fee, "exchange fee")
    if fee > gross:
        raise InvalidAmount(f"the exchange fee ({fee}) cannot exceed the listing price ({gross})")
    bearer = {FeePolicy.PAYER: payer, FeePolicy.RECEIVER: receiver, FeePolicy.FUND: FUND}[
        FeePolicy(policy)
    ]
    postings = [
        LedgerPosting(payer, gross, PostingRole.TRANSFER_PAID),
        LedgerPosting(receiver, -(gross - fee), PostingRole.TRANSFER_RECEIVED),
        LedgerPosting(FEES, -fee, PostingRole.EXCHANGE_FEE),
        LedgerPosting(bearer, -fee, PostingRole.FEE_CHARGED),
        LedgerPosting(FEES, fee, PostingRole.FEE_RECOVERED),
    ]
    return _nonzero_checked(postings)


def adjustment_postings(
    amounts: Mapping[Account, int], role: PostingRole = PostingRole.ADJUSTMENT
) -> list[LedgerPosting]:
    """Postings that move balances by ``amounts`` (account -> signed diamonds).

    Use it for corrections between accounts and for opening balances
    (``role=PostingRole.OPENING``). The amounts must sum to zero.

    Raises:
        InvalidAmount: an amount is not a whole number.
        UnbalancedEntry: the amounts do not sum to zero.
    """
    for account, amount in amounts.items():
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise InvalidAmount(f"the amount for {account} must be whole diamonds, got {amount!r}")
    return _nonzero_checked([LedgerPosting(a, amounts[a], role) for a in sorted(amounts)])


def reversal_postings(postings: Iterable[LedgerPosting]) -> list[LedgerPosting]:
    """Postings that exactly undo ``postings`` (each amount negated, role REVERSAL)."""
    return check_balanced(
        [LedgerPosting(p.account, -p.amount, PostingRole.REVERSAL) for p in postings]
    )


def balances(postings: Iterable[LedgerPosting]) -> dict[Account, int]:
    """Each account's balance from the postings alone (every account that appears, in
    account order; an account whose postings cancel has balance 0)."""
    totals: dict[Account, int] = {}
    for posting in postings:
        totals[posting.account] = totals.get(posting.account, 0) + posting.amount
    return {account: totals[account] for account in sorted(totals)}


def check_balanced(postings: Iterable[LedgerPosting]) -> list[LedgerPosting]:
    """Return the postings as a list if they sum to zero.

    Raises:
        UnbalancedEntry: they do not; the message gives the sum and the accounts.
    """
    postings = list(postings)
    total = sum(p.amount for p in postings)
    if total != 0:
        accounts = ", ".join(f"{p.account}: {p.amount:+d}" for p in postings)
        raise UnbalancedEntry(
            f"an entry must sum to 0 but these postings sum to {total:+d} ({accounts}); "
            "add the missing counter-posting"
        )
    return postings


def fees_paid(postings: Iterable[LedgerPosting]) -> int:
    """Diamonds the exchange kept in settlement transfers among ``postings``."""
    return -sum(p.amount for p in postings if p.role is PostingRole.EXCHANGE_FEE)


def _nonzero_checked(postings: list[LedgerPosting]) -> list[LedgerPosting]:
    return check_balanced([p for p in postings if p.amount])
