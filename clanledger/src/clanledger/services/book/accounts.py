"""A user's book: made on first visit, its accounts and their balances."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clanledger.domain.book.kinds import AccountType
from clanledger.domain.book.money import MAX_MINOR_DIGITS, currency
from clanledger.domain.messages import N_
from clanledger.models import User
from clanledger.models.book import BookAccount, BookPosting, BookProfile, BookTransaction
from clanledger.services.book import audit
from clanledger.services.book.categories import seed_default_categories
from clanledger.services.book.errors import as_validation, clean_name
from clanledger.services.errors import (
    Conflict,
    NotFound,
    ValidationError,
    commit_or_conflict,
    flush_or_conflict,
)

NAME_TAKEN = N_("You already have an account with this name.")
MAX_ACCOUNTS = 200


def ensure_book(session: Session, user_id: int) -> BookProfile:
    """The user's book, made on first visit with the default categories and a cash
    account (committed)."""
    profile = session.get(BookProfile, user_id)
    if profile is not None:
        return profile
    user = session.get(User, user_id)
    if user is None:
        raise NotFound()
    profile = BookProfile(user_id=user_id, default_currency="TWD")
    session.add(profile)
    seed_default_categories(session, user_id, user.locale)
    cash = "Cash" if (user.locale or "").startswith("en") else "現金"
    session.add(BookAccount(user_id=user_id, name=cash, type=AccountType.CASH, currency="TWD"))
    try:
        commit_or_conflict(session, N_("Your book was set up in another tab. Reload the page."))
    except Conflict:
        # Two first visits at once: the other one made the book.
        existing = session.get(BookProfile, user_id)
        if existing is None:
            raise
        return existing
    return profile


def get_account(session: Session, user_id: int, account_id: int) -> BookAccount:
    """One of the user's accounts, else :class:`NotFound`."""
    account = session.get(BookAccount, account_id)
    if account is None or account.user_id != user_id:
        raise NotFound()
    return account


def list_accounts(session: Session, user_id: int, include_archived: bool = False):
    query = select(BookAccount).where(BookAccount.user_id == user_id)
    if not include_archived:
        query = query.where(BookAccount.archived.is_(False))
    return list(session.scalars(query.order_by(BookAccount.sort, BookAccount.id)))


def balances(session: Session, user_id: int) -> dict[int, int]:
    """Every account's balance in its own minor unit (deleted transactions skipped)."""
    rows = session.execute(
        select(BookPosting.account_id, func.sum(BookPosting.amount))
        .join(BookTransaction, BookTransaction.id == BookPosting.transaction_id)
        .where(
            BookPosting.user_id == user_id,
            BookPosting.account_id.is_not(None),
            BookTransaction.deleted_at.is_(None),
        )
        .group_by(BookPosting.account_id)
    )
    return {account_id: int(total or 0) for account_id, total in rows}


def create_account(
    session: Session,
    user_id: int,
    name: str,
    type: AccountType | str,
    currency_code: str = "TWD",
    minor_digits: int | None = None,
    closing_day: int | None = None,
) -> BookAccount:
    """Add an account; ``minor_digits`` defaults to the currency's (TWD 0, USD 2)."""
    name = clean_name(name)
    with as_validation():
        cur = currency(currency_code)
    try:
        kind = AccountType(type)
    except ValueError:
        raise ValidationError(N_("Choose an account type."), field="type") from None
    digits = cur.minor_digits if minor_digits is None else minor_digits
    if not 0 <= digits <= MAX_MINOR_DIGITS:
        raise ValidationError(N_("Decimals are 0 to 4."), field="minor_digits")
    if closing_day is not None and not 1 <= closing_day <= 31:
        raise ValidationError(N_("The day of the month is 1 to 31."), field="closing_day")
    count = session.scalar(select(func.count()).where(BookAccount.user_id == user_id)) or 0
    if count >= MAX_ACCOUNTS:
        raise ValidationError(
            N_("A book holds at most %(max)d accounts."), params={"max": MAX_ACCOUNTS}
        )
    account = BookAccount(
        user_id=user_id,
        name=name,
        type=kind,
        currency=cur.code,
        minor_digits=digits,
        closing_day=closing_day if kind is AccountType.CREDIT_CARD else None,
        sort=count,
    )
    session.add(account)
    flush_or_conflict(session, NAME_TAKEN)
    audit.record(session, user_id, "create", "account", account.id, name, after=_row(account))
    commit_or_conflict(session, NAME_TAKEN)
    return account


def update_account(
    session: Session,
    user_id: int,
    account_id: int,
    name: str,
    archived: bool = False,
    closing_day: int | None = None,
) -> BookAccount:
    """Rename or archive an account (its currency and decimals never change)."""
    account = get_account(session, user_id, account_id)
    before = _row(account)
    account.name = clean_name(name)
    account.archived = bool(archived)
    if closing_day is not None and not 1 <= closing_day <= 31:
        raise ValidationError(N_("The day of the month is 1 to 31."), field="closing_day")
    if account.type is AccountType.CREDIT_CARD:
        account.closing_day = closing_day
    audit.record(
        session, user_id, "update", "account", account.id, account.name, before, _row(account)
    )
    commit_or_conflict(session, NAME_TAKEN)
    return account


def _row(account: BookAccount) -> dict:
    return {
        "name": account.name,
        "type": account.type.value,
        "currency": account.currency,
        "minor_digits": account.minor_digits,
        "archived": account.archived,
        "closing_day": account.closing_day,
    }
