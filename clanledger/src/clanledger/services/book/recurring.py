"""Recurring rules (rent on the 5th, a monthly card payment, a yearly fee): create, edit,
pause, resume and delete them, and list what comes next.

Making the transactions that fall due is :mod:`clanledger.services.book.recurring_run`;
the dates themselves are :mod:`clanledger.domain.book.recurring`. A rule's ``next_on`` is
the first date not made yet (NULL once the rule has ended).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from clanledger.domain.book import recurring as schedule
from clanledger.domain.book.kinds import CategoryKind, Frequency, TxnKind
from clanledger.domain.book.money import MAX_AMOUNT, parse_amount
from clanledger.domain.messages import N_
from clanledger.models.book import BookAccount, BookAudit, BookRecurring, BookTransaction
from clanledger.services.book import audit
from clanledger.services.book.accounts import get_account
from clanledger.services.book.categories import full_name, get_category
from clanledger.services.book.errors import as_validation
from clanledger.services.book.transactions import FIRST_DAY, LAST_DAY
from clanledger.services.errors import (
    Conflict,
    NotFound,
    ValidationError,
    commit_or_conflict,
)

STALE = N_("This rule was changed in another tab. Reload it and try again.")
MAX_RULES = 200
RULE_KINDS = (TxnKind.EXPENSE, TxnKind.INCOME, TxnKind.TRANSFER)
UPCOMING_DAYS = 30


@dataclass(frozen=True)
class RuleInput:
    """What a person enters for a rule. ``amount`` is text as typed (parsed with the
    account's decimals) or a whole number of minor units. An expense or income takes
    ``category_id``; a transfer takes ``to_account_id``. ``day`` (1-31, 31 = the month's
    last day) is for monthly and yearly rules; it defaults to the start date's day."""

    name: str
    kind: TxnKind | str
    amount: str | int
    account_id: int
    frequency: Frequency | str
    starts_on: date
    every: int = 1
    day: int | None = None
    category_id: int | None = None
    to_account_id: int | None = None
    payee: str = ""
    note: str = ""
    ends_on: date | None = None


@dataclass(frozen=True)
class RuleRow:
    """A rule as the list shows it: names resolved, and why it is paused when a run
    paused it (a msgid and its parameters)."""

    rule: BookRecurring
    account: BookAccount
    target: str
    reason: str | None = None
    reason_params: dict[str, Any] | None = None

    @property
    def ended(self) -> bool:
        return self.rule.next_on is None


@dataclass(frozen=True)
class Upcoming:
    """One date a rule will make, with its account's currency and decimals."""

    on: date
    rule: BookRecurring
    currency: str
    digits: int


def get_rule(session: Session, user_id: int, rule_id: int) -> BookRecurring:
    """One of the user's rules, else :class:`NotFound`."""
    rule = session.get(BookRecurring, rule_id)
    if rule is None or rule.user_id != user_id:
        raise NotFound()
    return rule


def list_rules(session: Session, user_id: int) -> list[RuleRow]:
    """Every rule of the user: active ones by their next date, then paused and ended."""
    rules = list(
        session.scalars(
            select(BookRecurring)
            .where(BookRecurring.user_id == user_id)
            .order_by(BookRecurring.next_on, BookRecurring.id)
        )
    )
    reasons = _pause_reasons(session, user_id, [r.id for r in rules if not r.active])
    rows = [_row(session, user_id, rule, reasons.get(rule.id)) for rule in rules]
    return sorted(rows, key=lambda r: (not r.rule.active, r.ended, r.rule.next_on or LAST_DAY))


def upcoming(
    session: Session, user_id: int, today: date, days: int = UPCOMING_DAYS
) -> list[Upcoming]:
    """What the active rules will make from ``today`` to ``days`` days later, by date."""
    until = today + timedelta(days=days)
    rules = session.scalars(
        select(BookRecurring).where(
            BookRecurring.user_id == user_id,
            BookRecurring.active.is_(True),
            BookRecurring.next_on.is_not(None),
            BookRecurring.next_on <= until,
        )
    )
    found = []
    for rule in rules:
        account = get_account(session, user_id, rule.account_id)
        found += [
            Upcoming(when, rule, account.currency, account.minor_digits)
            for when in schedule.dates(
                Frequency(rule.frequency), rule.every, rule.day, rule.starts_on, until, rule.ends_on
            )
            if when >= max(rule.next_on or today, today)
        ]
    return sorted(found, key=lambda u: (u.on, u.rule.name, u.rule.id))


def create_rule(session: Session, user_id: int, data: RuleInput) -> BookRecurring:
    """Add a rule. Its dates from the start up to today are made on the next run."""
    count = session.scalar(select(func.count()).where(BookRecurring.user_id == user_id)) or 0
    if count >= MAX_RULES:
        raise ValidationError(
            N_("A book holds at most %(max)d recurring rules."), params={"max": MAX_RULES}
        )
    rule = BookRecurring(user_id=user_id, active=True, **_fields(session, user_id, data))
    rule.next_on = _first_date(rule, None)
    session.add(rule)
    session.flush()
    audit.record(session, user_id, "create", "recurring", rule.id, rule.name, after=snapshot(rule))
    commit_or_conflict(session, STALE)
    return rule


def update_rule(
    session: Session,
    user_id: int,
    rule_id: int,
    data: RuleInput,
    expected_version: int | None = None,
) -> BookRecurring:
    """Change a rule. Dates already made stay made (and are never made twice); the next
    date is the first one of the new schedule after the last date made."""
    rule = _current(session, user_id, rule_id, expected_version)
    before = snapshot(rule)
    for key, value in _fields(session, user_id, data).items():
        setattr(rule, key, value)
    rule.next_on = _first_date(rule, _last_made(session, user_id, rule.id))
    session.flush()
    audit.record(
        session, user_id, "update", "recurring", rule.id, rule.name, before, snapshot(rule)
    )
    commit_or_conflict(session, STALE)
    return rule


def pause_rule(
    session: Session, user_id: int, rule_id: int, expected_version: int | None = None
) -> BookRecurring:
    """Stop making the rule's transactions until it is resumed."""
    rule = _current(session, user_id, rule_id, expected_version)
    if not rule.active:
        raise Conflict(N_("This rule is already paused."))
    set_paused(session, user_id, rule, None)
    commit_or_conflict(session, STALE)
    return rule


def resume_rule(
    session: Session, user_id: int, rule_id: int, today: date, expected_version: int | None = None
) -> BookRecurring:
    """Start the rule again from ``today``: dates missed while it was paused are skipped
    (add them by hand if they happened)."""
    rule = _current(session, user_id, rule_id, expected_version)
    if rule.active:
        raise Conflict(N_("This rule is not paused."))
    _usable_account(session, user_id, rule.account_id)
    if rule.to_account_id is not None:
        _usable_account(session, user_id, rule.to_account_id)
    before = snapshot(rule)
    rule.active = True
    last = max(_last_made(session, user_id, rule.id) or FIRST_DAY, today - timedelta(days=1))
    rule.next_on = _first_date(rule, last)
    audit.record(
        session, user_id, "resume", "recurring", rule.id, rule.name, before, snapshot(rule)
    )
    commit_or_conflict(session, STALE)
    return rule


def delete_rule(
    session: Session, user_id: int, rule_id: int, expected_version: int | None = None
) -> None:
    """Remove a rule. The transactions it made stay in the book (no longer linked)."""
    rule = _current(session, user_id, rule_id, expected_version)
    session.execute(
        update(BookTransaction)
        .where(BookTransaction.user_id == user_id, BookTransaction.recurring_id == rule.id)
        .values(recurring_id=None)
    )
    audit.record(session, user_id, "delete", "recurring", rule.id, rule.name, snapshot(rule))
    session.delete(rule)
    commit_or_conflict(session, STALE)


def set_paused(
    session: Session,
    user_id: int,
    rule: BookRecurring,
    reason: str | None,
    params: dict[str, Any] | None = None,
) -> None:
    """Pause ``rule`` (not committed); ``reason`` (a msgid) says why when a run did it."""
    before = snapshot(rule)
    rule.active = False
    after = {**snapshot(rule), "reason": reason, "params": params or {}}
    audit.record(session, user_id, "pause", "recurring", rule.id, rule.name, before, after)


def snapshot(rule: BookRecurring) -> dict[str, Any]:
    """The rule's fields for the audit trail."""
    return {
        "name": rule.name,
        "kind": TxnKind(rule.kind).value,
        "amount": rule.amount,
        "account_id": rule.account_id,
        "to_account_id": rule.to_account_id,
        "category_id": rule.category_id,
        "payee": rule.payee,
        "frequency": Frequency(rule.frequency).value,
        "every": rule.every,
        "day": rule.day,
        "starts_on": rule.starts_on.isoformat(),
        "ends_on": rule.ends_on.isoformat() if rule.ends_on else None,
        "next_on": rule.next_on.isoformat() if rule.next_on else None,
        "active": rule.active,
    }


def first_date_after(rule: BookRecurring, after: date | None) -> date | None:
    """The rule's first date after ``after`` (from its start when None); None once past
    its end."""
    return _first_date(rule, after)


# ------------------------------------------------------------------------------ helpers


def _first_date(rule: BookRecurring, after: date | None) -> date | None:
    start = rule.starts_on - timedelta(days=1)
    when = schedule.next_after(
        Frequency(rule.frequency), rule.every, rule.day, rule.starts_on, max(after or start, start)
    )
    if rule.ends_on is not None and when > rule.ends_on:
        return None
    return when


def _last_made(session: Session, user_id: int, rule_id: int) -> date | None:
    return session.scalar(
        select(func.max(BookTransaction.occurred_on)).where(
            BookTransaction.user_id == user_id, BookTransaction.recurring_id == rule_id
        )
    )


def _current(
    session: Session, user_id: int, rule_id: int, expected_version: int | None
) -> BookRecurring:
    rule = get_rule(session, user_id, rule_id)
    if expected_version is not None and rule.version != expected_version:
        raise Conflict(STALE)
    return rule


def _fields(session: Session, user_id: int, data: RuleInput) -> dict[str, Any]:
    """The checked columns of a rule from ``data``."""
    kind = _choice(TxnKind, data.kind, N_("Choose expense, income or transfer."), "kind")
    if kind not in RULE_KINDS:
        raise ValidationError(N_("Choose expense, income or transfer."), field="kind")
    frequency = _choice(Frequency, data.frequency, N_("Choose how often."), "frequency")
    account = _usable_account(session, user_id, data.account_id)
    fields: dict[str, Any] = {
        "name": _text(data.name, 64, "name", required=True),
        "kind": kind,
        "amount": _amount(data.amount, account.minor_digits),
        "account_id": account.id,
        "payee": _text(data.payee, 128, "payee"),
        "note": _text(data.note, 2000, "note"),
        "category_id": None,
        "to_account_id": None,
    }
    if kind is TxnKind.TRANSFER:
        fields["to_account_id"] = _target(session, user_id, account, data.to_account_id).id
    else:
        fields["category_id"] = _category(session, user_id, kind, data.category_id)
    fields.update(_schedule(frequency, data))
    return fields


def _schedule(frequency: Frequency, data: RuleInput) -> dict[str, Any]:
    starts, ends = data.starts_on, data.ends_on
    if not isinstance(starts, date) or not FIRST_DAY <= starts <= LAST_DAY:
        raise ValidationError(N_("Enter a date between 1970 and 2999."), field="starts_on")
    if ends is not None and not starts <= ends <= LAST_DAY:
        raise ValidationError(N_("The end date cannot be before the start."), field="ends_on")
    every = data.every
    if isinstance(every, bool) or not isinstance(every, int):
        raise ValidationError(N_("Choose how often."), field="every")
    day = None if frequency is Frequency.WEEKLY else (starts.day if data.day is None else data.day)
    with as_validation():
        schedule.validate_rule(frequency, every, day, starts)
    return {
        "frequency": frequency,
        "every": every,
        "day": day,
        "starts_on": starts,
        "ends_on": ends,
    }


def _choice(enum: Any, value: Any, message: str, field: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise ValidationError(message, field=field) from None


def _amount(value: str | int, digits: int) -> int:
    if isinstance(value, bool):
        raise ValidationError(N_("Enter an amount."), field="amount")
    if isinstance(value, int):
        if not 0 < value <= MAX_AMOUNT:
            raise ValidationError(N_("The amount must be more than 0."), field="amount")
        return value
    with as_validation():
        return parse_amount(value, digits)


def _usable_account(session: Session, user_id: int, account_id: Any) -> BookAccount:
    try:
        account = get_account(session, user_id, int(account_id))
    except (NotFound, TypeError, ValueError):
        raise ValidationError(N_("Choose one of your accounts."), field="account_id") from None
    if account.read_only:
        raise ValidationError(
            N_("This line mirrors your clan's ledger: change it in the clan, not here."),
            field="account_id",
        )
    if account.archived:
        raise ValidationError(
            N_("The account %(name)s is archived."),
            field="account_id",
            params={"name": account.name},
        )
    return account


def _target(
    session: Session, user_id: int, account: BookAccount, to_account_id: Any
) -> BookAccount:
    if to_account_id in (None, ""):
        raise ValidationError(N_("Choose the account the money goes to."), field="to_account_id")
    try:
        target = _usable_account(session, user_id, to_account_id)
    except ValidationError as error:
        raise ValidationError(error.message, "to_account_id", error.params) from None
    if target.id == account.id:
        raise ValidationError(
            N_("Choose two different accounts for a transfer."), field="to_account_id"
        )
    if target.currency != account.currency:
        raise ValidationError(
            N_("A repeating transfer needs two accounts in the same currency."),
            field="to_account_id",
        )
    return target


def _category(session: Session, user_id: int, kind: TxnKind, category_id: Any) -> int:
    try:
        category = get_category(session, user_id, int(category_id))
    except (NotFound, TypeError, ValueError):
        raise ValidationError(N_("Choose one of your categories."), field="category_id") from None
    wanted = CategoryKind.EXPENSE if kind is TxnKind.EXPENSE else CategoryKind.INCOME
    if category.kind is not wanted:
        raise ValidationError(
            N_("Choose an expense category for an expense, an income one for an income."),
            field="category_id",
        )
    return category.id


def _text(value: Any, limit: int, field: str, required: bool = False) -> str:
    text = " ".join(str(value or "").split()) if field != "note" else str(value or "").strip()
    if required and not text:
        raise ValidationError(N_("Enter a name."), field=field)
    if len(text) > limit:
        raise ValidationError(N_("At most %(max)d characters."), field=field, params={"max": limit})
    return text


def _row(session: Session, user_id: int, rule: BookRecurring, reason: Any) -> RuleRow:
    account = get_account(session, user_id, rule.account_id)
    if rule.to_account_id is not None:
        target = get_account(session, user_id, rule.to_account_id).name
    elif rule.category_id is not None:
        target = full_name(get_category(session, user_id, rule.category_id))
    else:
        target = ""
    message, params = reason if reason else (None, None)
    return RuleRow(rule, account, target, message, params)


def _pause_reasons(
    session: Session, user_id: int, rule_ids: list[int]
) -> dict[int, tuple[str, dict[str, Any]]]:
    """For each paused rule, the reason its latest pause gave (none when paused by hand)."""
    if not rule_ids:
        return {}
    rows = session.scalars(
        select(BookAudit)
        .where(
            BookAudit.user_id == user_id,
            BookAudit.entity == "recurring",
            BookAudit.action == "pause",
            BookAudit.entity_id.in_(rule_ids),
        )
        .order_by(BookAudit.id)
    )
    found: dict[int, tuple[str, dict[str, Any]]] = {}
    for row in rows:
        after = row.after or {}
        if after.get("reason"):
            found[row.entity_id or 0] = (after["reason"], dict(after.get("params") or {}))
        else:
            found.pop(row.entity_id or 0, None)
    return found
