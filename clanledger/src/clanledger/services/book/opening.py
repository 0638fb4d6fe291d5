"""Opening an account with what it already holds: the account and its ``opening``
transaction, checked together before anything is stored."""

from __future__ import annotations

from sqlalchemy.orm import Session

from clanledger.domain.book.kinds import AccountType, TxnKind
from clanledger.domain.book.money import MAX_MINOR_DIGITS, currency, parse_amount
from clanledger.domain.messages import N_
from clanledger.models.book import BookAccount
from clanledger.services.book import transactions
from clanledger.services.book.accounts import create_account
from clanledger.services.book.errors import as_validation
from clanledger.services.errors import ValidationError


def open_account(
    session: Session,
    user_id: int,
    name: str,
    type: AccountType | str,
    currency_code: str,
    minor_digits: int | None,
    closing_day: int | None,
    opening_text: str,
    opened_on,
) -> BookAccount:
    """Add an account and, when ``opening_text`` is not empty, its opening balance on
    ``opened_on`` (< 0 for a card that already owes). The balance is parsed with the
    account's decimals first, so a bad amount stores nothing."""
    with as_validation():
        digits = currency(currency_code).minor_digits if minor_digits is None else minor_digits
    if not 0 <= digits <= MAX_MINOR_DIGITS:
        raise ValidationError(N_("Decimals are 0 to 4."), field="minor_digits")
    opening = None
    if str(opening_text or "").strip():
        try:
            with as_validation():
                opening = parse_amount(opening_text, digits, allow_negative=True)
        except ValidationError as error:
            error.field = "opening"
            raise
    account = create_account(
        session, user_id, name, type, currency_code, minor_digits=digits, closing_day=closing_day
    )
    if opening is not None:
        transactions.record(
            session,
            user_id,
            transactions.Draft(
                kind=TxnKind.OPENING, occurred_on=opened_on, account_id=account.id, amount=opening
            ),
        )
    return account
