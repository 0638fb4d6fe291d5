"""What an API client sends to the book, made into a :class:`~transactions.Draft` and
recorded through the same service as the entry page.

An amount comes either as ``amount``, an integer in the account's minor unit (NT$ 120 is
``120`` on a whole-dollar account, US$ 1.50 is ``150``), or as ``amount_decimal``, the text
a person would type (``"1.50"``), parsed exactly with the account's decimals. Never a float.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from clanledger.domain.book.entries import Split
from clanledger.domain.book.kinds import TxnKind
from clanledger.domain.book.money import parse_amount
from clanledger.domain.messages import N_
from clanledger.models.book import BookAccount, BookAudit, BookTransaction
from clanledger.services.book import transactions
from clanledger.services.book.accounts import get_account
from clanledger.services.book.errors import as_validation
from clanledger.services.book.transactions import Draft
from clanledger.services.errors import NotFound, ValidationError

ENTERED_KINDS = frozenset({TxnKind.EXPENSE, TxnKind.INCOME, TxnKind.TRANSFER})
NOT_YOURS = N_("Choose one of your accounts.")
ONE_OF = N_("Send amount (whole minor units) or amount_decimal (text), not both.")
NO_AMOUNT = N_("Enter an amount.")


def record(session: Session, user_id: int, values: Mapping[str, Any]) -> BookTransaction:
    """Record an expense, an income or a transfer sent by a client (see the module)."""
    return transactions.record(session, user_id, draft_from(session, user_id, values))


def update(
    session: Session, user_id: int, txn_id: int, values: Mapping[str, Any]
) -> BookTransaction:
    """Replace one of the user's transactions; ``values["version"]``, when sent, must be the
    version read (else :class:`Conflict`)."""
    transactions.get_transaction(session, user_id, txn_id)  # another user's id: 404 first
    draft = draft_from(session, user_id, values)
    return transactions.update(session, user_id, txn_id, draft, values.get("version"))


def delete(session: Session, user_id: int, txn_id: int, version: int | None = None) -> BookAudit:
    """Delete one of the user's transactions; the audit row returned is what an undo takes."""
    return transactions.delete(session, user_id, txn_id, version)


def undo(session: Session, user_id: int, audit_id: int) -> BookTransaction:
    """Undo one change of a transaction (the audit row's id, as a delete answered)."""
    return transactions.undo(session, user_id, audit_id)


def draft_from(session: Session, user_id: int, values: Mapping[str, Any]) -> Draft:
    """The :class:`Draft` of what was sent. Amount texts are parsed with the decimals of the
    account they are in; an account of another user is refused like an unknown one."""
    kind = TxnKind(values["kind"])
    if kind not in ENTERED_KINDS:
        raise ValidationError(N_("Choose expense, income or transfer."), field="kind")
    account = _account(session, user_id, values["account_id"], "account_id")
    splits = tuple(_split(account, s) for s in values.get("splits") or ())
    amount = _amount(account, values, "amount", required=not splits)
    if amount is None:
        amount = sum(s.amount for s in splits)
    received = None
    if kind is TxnKind.TRANSFER and values.get("to_account_id") is not None:
        target = _account(session, user_id, values["to_account_id"], "to_account_id")
        received = _amount(target, values, "received", required=False)
    return Draft(
        kind=kind,
        occurred_on=values["occurred_on"],
        account_id=account.id,
        amount=amount,
        category_id=values.get("category_id"),
        splits=splits,
        to_account_id=values.get("to_account_id"),
        received=received,
        payee=values.get("payee") or "",
        note=values.get("note") or "",
        tags=transactions.normalize_tags(_tags(values.get("tags"))),
    )


def _account(session: Session, user_id: int, account_id: int, field: str) -> BookAccount:
    try:
        return get_account(session, user_id, account_id)
    except NotFound:
        raise ValidationError(NOT_YOURS, field=field) from None


def _amount(
    account: BookAccount,
    values: Mapping[str, Any],
    name: str,
    required: bool,
    allow_negative: bool = False,
) -> int | None:
    """``values[name]`` (minor units) or ``values[name + "_decimal"]`` (text) in the
    account's minor unit (< 0 only for a split's discount line)."""
    whole, text = values.get(name), values.get(f"{name}_decimal")
    if whole is not None and text is not None:
        raise ValidationError(ONE_OF, field=name)
    if text is not None:
        with as_validation():
            return parse_amount(text, account.minor_digits, allow_negative=allow_negative)
    if whole is None and required:
        raise ValidationError(NO_AMOUNT, field=name)
    return whole


def _split(account: BookAccount, values: Mapping[str, Any]) -> Split:
    amount = _amount(account, values, "amount", required=True, allow_negative=True)
    if amount is None:  # required: never, but keeps the type exact
        raise ValidationError(NO_AMOUNT, field="splits")
    return Split(values["category_id"], amount, values.get("memo") or "")


def _tags(tags: str | Sequence[str] | None) -> str | Sequence[str]:
    if tags is None:
        return ()
    return tags
