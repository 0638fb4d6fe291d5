"""The transaction form of fast entry and of the edit page: reading what was posted into a
:class:`~clanledger.services.book.transactions.Draft` (every bad value a one-line message
under its field), and what the form needs to be drawn."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from clanledger.domain.book.entries import Split
from clanledger.domain.book.errors import BookInputError
from clanledger.domain.book.kinds import CategoryKind, TxnKind
from clanledger.domain.book.money import format_amount, parse_amount
from clanledger.extensions import db
from clanledger.i18n import DEFAULT_TIMEZONE, service_message
from clanledger.models.book import BookAccount, BookTransaction
from clanledger.models.types import utcnow
from clanledger.services.book import accounts, categories, queries
from clanledger.services.book.transactions import Draft
from clanledger.services.errors import NotFound, ServiceError
from clanledger.web.params import MAX_ROW_ID

ENTRY_KINDS = (TxnKind.EXPENSE, TxnKind.INCOME, TxnKind.TRANSFER)
SPLIT_ROWS = 3
MAX_SPLITS = 30


class FormErrors(Exception):
    """The posted form had bad values: ``errors`` maps a field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def today() -> date:
    """Today in Taiwan (the book's day starts at midnight there)."""
    return utcnow().astimezone(ZoneInfo(DEFAULT_TIMEZONE)).date()


def parse_id(text: Any) -> int | None:
    """A row id typed or posted, None when empty, malformed or out of range."""
    raw = str(text or "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ROW_ID else None


def parse_day(text: Any) -> date:
    """A ``YYYY-MM-DD`` date, or :class:`ValueError` with a message to show."""
    raw = str(text or "").strip()
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(_("Enter a real date as YYYY-MM-DD, e.g. 2026-03-31.")) from None


def _account(user_id: int, text: Any, field_name: str, errors: dict[str, str]):
    account_id = parse_id(text)
    if account_id is None:
        errors[field_name] = _("Choose one of your accounts.")
        return None
    try:
        return accounts.get_account(db.session, user_id, account_id)
    except NotFound:
        errors[field_name] = _("Choose one of your accounts.")
        return None


def _amount(text: Any, digits: int, field_name: str, errors: dict[str, str], **kw: Any):
    try:
        return parse_amount(str(text or "")[:60], digits, **kw)
    except BookInputError as error:
        errors[field_name] = shown_error(error)
        return None


def parse_draft(user_id: int, form: MultiDict, editing: BookTransaction | None = None) -> Draft:
    """The posted form as a draft, or :class:`FormErrors` naming every bad field."""
    errors: dict[str, str] = {}
    allowed = (TxnKind.OPENING,) if editing and editing.kind is TxnKind.OPENING else ENTRY_KINDS
    kind = next((k for k in allowed if k.value == form.get("kind", allowed[0].value)), None)
    if kind is None:
        errors["kind"] = _("Choose expense, income or transfer.")
        kind = allowed[0]
    account = _account(user_id, form.get("account_id"), "account_id", errors)
    digits = account.minor_digits if account else 0
    amount = _amount(
        form.get("amount"), digits, "amount", errors, allow_negative=kind is TxnKind.OPENING
    )
    try:
        occurred_on = parse_day(form.get("occurred_on"))
    except ValueError as error:
        errors["occurred_on"] = str(error)
        occurred_on = today()
    extra = _kind_fields(user_id, kind, form, digits, amount, errors)
    if errors:
        raise FormErrors(errors)
    return Draft(
        kind=kind,
        occurred_on=occurred_on,
        account_id=account.id if account else 0,
        amount=amount or 0,
        payee=str(form.get("payee") or ""),
        note=str(form.get("note") or ""),
        tags=tuple(re.split(r"[\s,，、]+", str(form.get("tags") or "")[:400])),
        **extra,
    )


def _kind_fields(
    user_id: int,
    kind: TxnKind,
    form: MultiDict,
    digits: int,
    amount: int | None,
    errors: dict[str, str],
) -> dict[str, Any]:
    if kind is TxnKind.TRANSFER:
        target = _account(user_id, form.get("to_account_id"), "to_account_id", errors)
        received = None
        if target is not None and str(form.get("received") or "").strip():
            received = _amount(form.get("received"), target.minor_digits, "received", errors)
        return {"to_account_id": target.id if target else None, "received": received}
    if kind is TxnKind.OPENING:
        return {}
    splits = _splits(form, digits, errors)
    if splits:
        if amount is not None and "splits" not in errors:
            _check_split_total(amount, splits, digits, errors)
        return {"splits": tuple(splits)}
    category_id = parse_id(form.get("category_id"))
    if category_id is None:
        errors["category_id"] = _("Choose a category.")
    return {"category_id": category_id}


def _splits(form: MultiDict, digits: int, errors: dict[str, str]) -> list[Split]:
    cats = form.getlist("split_category")[:MAX_SPLITS]
    amounts = form.getlist("split_amount")[:MAX_SPLITS]
    out: list[Split] = []
    for n, (cat_text, amount_text) in enumerate(zip(cats, amounts, strict=False), start=1):
        if not str(cat_text).strip() and not str(amount_text).strip():
            continue
        category_id = parse_id(cat_text)
        if category_id is None:
            errors["splits"] = _("Split line %(n)d: choose a category.", n=n)
            return []
        line: dict[str, str] = {}
        value = _amount(amount_text, digits, "line", line, allow_negative=True)
        if value is None:
            errors["splits"] = _("Split line %(n)d: %(error)s", n=n, error=line["line"])
            return []
        out.append(Split(category_id, value))
    return out


def _check_split_total(amount: int, splits: list[Split], digits: int, errors: dict) -> None:
    parts = sum(s.amount for s in splits)
    if parts == amount:
        return
    shown = {
        "parts": format_amount(parts, digits),
        "total": format_amount(amount, digits),
        "off": format_amount(abs(parts - amount), digits),
    }
    if parts > amount:
        errors["splits"] = _(
            "The split lines add up to %(parts)s: %(off)s more than the total %(total)s.", **shown
        )
    else:
        errors["splits"] = _(
            "The split lines add up to %(parts)s: %(off)s less than the total %(total)s.", **shown
        )


def service_errors(error: ServiceError) -> dict[str, str]:
    """A service's refusal as form errors (under its field when the form has one)."""
    field_name = {
        "account": "account_id",
        "to": "to_account_id",
        "category": "category_id",
        "occurred_on": "occurred_on",
    }.get(getattr(error, "field", None) or "", getattr(error, "field", None) or "form")
    return {field_name: shown_error(error)}


def shown_error(error: ServiceError | BookInputError) -> str:
    """A service's message in the user's language. ``service_message`` formats whole
    numbers as text first, which a ``%(max)d`` placeholder refuses: those get the number."""
    try:
        return service_message(error)
    except (TypeError, ValueError):
        return _(error.message, **error.params)


@dataclass
class FormContext:
    """Everything the transaction form draws: choices, suggestions and the values."""

    values: MultiDict
    errors: dict[str, str] = field(default_factory=dict)
    accounts: list[BookAccount] = field(default_factory=list)
    expense_tree: list[Any] = field(default_factory=list)
    income_tree: list[Any] = field(default_factory=list)
    recent: dict[str, list[Any]] = field(default_factory=dict)
    payees: list[str] = field(default_factory=list)
    payee_category: dict[str, int] = field(default_factory=dict)
    split_rows: int = SPLIT_ROWS


def form_context(user_id: int, values: MultiDict, errors: dict[str, str] | None = None):
    """The form's choices for ``user_id`` with ``values`` filled in."""
    session = db.session
    hints = queries.suggestions(session, user_id)
    usable = [a for a in accounts.list_accounts(session, user_id) if not a.read_only]
    expense = categories.tree(session, user_id, CategoryKind.EXPENSE)
    income = categories.tree(session, user_id, CategoryKind.INCOME)
    by_id = {c.id: c for node in [*expense, *income] for c in [node.category, *node.children]}
    if not values.get("account_id"):
        default = hints.last_account_id or (usable[0].id if usable else "")
        values.setdefault("account_id", str(default))
    filled = len([v for v in values.getlist("split_category") if str(v).strip()])
    return FormContext(
        values=values,
        errors=dict(errors or {}),
        accounts=usable,
        expense_tree=expense,
        income_tree=income,
        recent={
            "expense": [by_id[i] for i in hints.expense_categories if i in by_id],
            "income": [by_id[i] for i in hints.income_categories if i in by_id],
        },
        payees=hints.payees,
        payee_category={p: c for p, c in hints.payee_category.items() if c in by_id},
        split_rows=max(SPLIT_ROWS, min(filled + 1, MAX_SPLITS)),
    )


def new_values(form: MultiDict | None = None) -> MultiDict:
    """The values of an empty fast-entry form (or what was posted)."""
    if form is not None:
        return MultiDict(form)
    return MultiDict({"kind": TxnKind.EXPENSE.value, "occurred_on": today().isoformat()})


def values_of(txn: BookTransaction, by_id: dict[int, BookAccount]) -> MultiDict:
    """An existing transaction as form values (the edit page)."""
    account_lines = [p for p in txn.postings if p.account_id is not None]
    category_lines = [p for p in txn.postings if p.category_id is not None]
    first = account_lines[0] if account_lines else None
    digits = by_id[first.account_id].minor_digits if first and first.account_id in by_id else 0
    signed = txn.kind is TxnKind.OPENING
    amount = (first.amount if signed else abs(first.amount)) if first else 0
    values = MultiDict(
        {
            "kind": txn.kind.value,
            "account_id": str(first.account_id if first else ""),
            "amount": format_amount(amount, digits, grouping=False),
            "occurred_on": txn.occurred_on.isoformat(),
            "payee": txn.payee,
            "note": txn.note,
            "tags": txn.tags,
            "version": str(txn.version),
        }
    )
    if txn.kind is TxnKind.TRANSFER and len(account_lines) > 1:
        target = account_lines[-1]
        values["to_account_id"] = str(target.account_id)
        if target.currency != first.currency if first else False:
            to_digits = by_id[target.account_id].minor_digits if target.account_id in by_id else 0
            values["received"] = format_amount(target.amount, to_digits, grouping=False)
    sign = -1 if txn.kind is TxnKind.INCOME else 1
    if len(category_lines) == 1:
        values["category_id"] = str(category_lines[0].category_id)
    for line in category_lines if len(category_lines) > 1 else []:
        values.add("split_category", str(line.category_id))
        values.add("split_amount", format_amount(sign * line.amount, digits, grouping=False))
    return values
