"""Transactions: record, edit, delete and undo, each written to the personal audit trail.

A transaction is built by the domain (:mod:`clanledger.domain.book.entries`) from a
:class:`Draft`, checked to balance per currency, and stored with its postings. Edits replace
the postings; deleting only marks the row, so an undo brings it back exactly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clanledger.domain.book import entries
from clanledger.domain.book.entries import Line, Split
from clanledger.domain.book.kinds import CategoryKind, TxnKind
from clanledger.domain.messages import N_
from clanledger.models.book import (
    BookAccount,
    BookAudit,
    BookCategory,
    BookPosting,
    BookTransaction,
)
from clanledger.models.types import utcnow
from clanledger.services.book import audit
from clanledger.services.book.accounts import get_account
from clanledger.services.book.categories import get_category
from clanledger.services.book.errors import as_validation
from clanledger.services.errors import (
    Conflict,
    NotFound,
    ValidationError,
    commit_or_conflict,
    flush_or_conflict,
)

STALE = N_("This transaction was changed in another tab. Reload it and try again.")
READ_ONLY = N_("This line mirrors your clan's ledger: change it in the clan, not here.")
MAX_TAGS = 10
MAX_TAG_LENGTH = 24
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)


@dataclass(frozen=True)
class Draft:
    """What a person enters. ``amount`` is the total in ``account_id``'s minor unit; an
    expense or income takes ``splits`` (or one ``category_id`` for the whole amount), a
    transfer takes ``to_account_id`` (and ``received`` across currencies)."""

    kind: TxnKind
    occurred_on: date
    account_id: int
    amount: int
    category_id: int | None = None
    splits: tuple[Split, ...] = ()
    to_account_id: int | None = None
    received: int | None = None
    payee: str = ""
    note: str = ""
    tags: tuple[str, ...] = field(default=())


def normalize_tags(text: str | Sequence[str]) -> tuple[str, ...]:
    """Tags from ``"#旅行, 日本"`` or a list: no ``#``, no duplicates, sorted."""
    parts = re.split(r"[\s,，、]+", text) if isinstance(text, str) else list(text)
    tags = sorted({p.strip().lstrip("#＃") for p in parts if p.strip().lstrip("#＃")})
    if len(tags) > MAX_TAGS:
        raise ValidationError(N_("At most %(max)d tags."), field="tags", params={"max": MAX_TAGS})
    for tag in tags:
        if len(tag) > MAX_TAG_LENGTH:
            raise ValidationError(
                N_("A tag is at most %(max)d characters."),
                field="tags",
                params={"max": MAX_TAG_LENGTH},
            )
    return tuple(tags)


def get_transaction(session: Session, user_id: int, txn_id: int) -> BookTransaction:
    """One of the user's transactions (deleted ones too), else :class:`NotFound`."""
    txn = session.get(BookTransaction, txn_id)
    if txn is None or txn.user_id != user_id:
        raise NotFound()
    return txn


def record(
    session: Session,
    user_id: int,
    draft: Draft,
    *,
    source_ref: str | None = None,
    import_id: int | None = None,
    recurring_id: int | None = None,
    commit: bool = True,
) -> BookTransaction:
    """Store a new transaction (and its audit row). With ``commit=False`` it is only flushed,
    for an import that commits all its lines at once."""
    lines = build_lines(session, user_id, draft)
    txn = BookTransaction(
        user_id=user_id,
        kind=draft.kind,
        occurred_on=draft.occurred_on,
        payee=_clip(draft.payee, 128, "payee"),
        note=_clip(draft.note, 2000, "note"),
        tags=" ".join(normalize_tags(draft.tags)),
        source_ref=source_ref,
        import_id=import_id,
        recurring_id=recurring_id,
    )
    txn.postings = [_posting(user_id, line) for line in lines]
    session.add(txn)
    flush_or_conflict(session, N_("This transaction was already recorded."))
    audit.record(
        session, user_id, "create", "transaction", txn.id, describe(txn), after=snapshot(txn)
    )
    if commit:
        commit_or_conflict(session, N_("This transaction was already recorded."))
    return txn


def update(
    session: Session,
    user_id: int,
    txn_id: int,
    draft: Draft,
    expected_version: int | None = None,
) -> BookTransaction:
    """Replace a transaction's fields and lines (refused for a clan mirror line, a deleted
    one, or one changed since ``expected_version`` was read)."""
    txn = _editable(session, user_id, txn_id, expected_version)
    if draft.kind in (TxnKind.CLAN,) or (draft.kind is TxnKind.OPENING) != (
        txn.kind is TxnKind.OPENING
    ):
        raise ValidationError(N_("This kind of transaction cannot be changed into that."))
    before = snapshot(txn)
    lines = build_lines(session, user_id, draft)
    txn.kind = draft.kind
    txn.occurred_on = draft.occurred_on
    txn.payee = _clip(draft.payee, 128, "payee")
    txn.note = _clip(draft.note, 2000, "note")
    txn.tags = " ".join(normalize_tags(draft.tags))
    txn.postings = [_posting(user_id, line) for line in lines]
    txn.updated_at = utcnow()
    session.flush()
    audit.record(
        session, user_id, "update", "transaction", txn.id, describe(txn), before, snapshot(txn)
    )
    commit_or_conflict(session, STALE)
    return txn


def delete(
    session: Session, user_id: int, txn_id: int, expected_version: int | None = None
) -> BookAudit:
    """Mark a transaction deleted; the returned audit row is what :func:`undo` takes."""
    txn = _editable(session, user_id, txn_id, expected_version)
    txn.deleted_at = utcnow()
    row = audit.record(
        session, user_id, "delete", "transaction", txn.id, describe(txn), snapshot(txn)
    )
    flush_or_conflict(session, STALE)
    commit_or_conflict(session, STALE)
    return row


def undo(session: Session, user_id: int, audit_id: int) -> BookTransaction:
    """Undo a create, update or delete of a transaction (once; newer changes first)."""
    row = session.get(BookAudit, audit_id)
    if row is None or row.user_id != user_id or row.entity != "transaction":
        raise NotFound()
    if row.undone_at is not None:
        raise Conflict(N_("This change was already undone."))
    txn = get_transaction(session, user_id, row.entity_id or 0)
    newer = session.scalar(
        select(BookAudit.id).where(
            BookAudit.user_id == user_id,
            BookAudit.entity == "transaction",
            BookAudit.entity_id == txn.id,
            BookAudit.id > row.id,
            BookAudit.undone_at.is_(None),
        )
    )
    if newer is not None:
        raise Conflict(N_("This transaction changed again since: undo the newer change first."))
    before = snapshot(txn)
    if row.action == "delete":
        txn.deleted_at = None
    elif row.action == "create":
        txn.deleted_at = utcnow()
    elif row.action == "update" and row.before:
        _restore(txn, user_id, row.before)
    else:
        raise Conflict(N_("This change cannot be undone."))
    row.undone_at = utcnow()
    session.flush()
    audit.record(
        session, user_id, "undo", "transaction", txn.id, describe(txn), before, snapshot(txn)
    )
    commit_or_conflict(session, STALE)
    return txn


def build_lines(session: Session, user_id: int, draft: Draft) -> list[Line]:
    """The balanced lines of ``draft``, after checking every id is the user's own."""
    if not FIRST_DAY <= draft.occurred_on <= LAST_DAY:
        raise ValidationError(N_("Enter a date between 1970 and 2999."), field="occurred_on")
    account = _own_account(session, user_id, draft.account_id)
    with as_validation():
        if draft.kind in (TxnKind.EXPENSE, TxnKind.INCOME):
            splits = draft.splits or (
                (Split(draft.category_id, draft.amount),) if draft.category_id else ()
            )
            _check_categories(session, user_id, draft.kind, splits)
            entries.check_split_total(draft.amount, splits)
            build = entries.expense_lines if draft.kind is TxnKind.EXPENSE else entries.income_lines
            lines = build(account.id, account.currency, splits)
        elif draft.kind is TxnKind.TRANSFER:
            if draft.to_account_id is None:
                raise ValidationError(N_("Choose the account the money goes to."), field="to")
            target = _own_account(session, user_id, draft.to_account_id)
            _same_scale(account, target)
            lines = entries.transfer_lines(
                account.id,
                account.currency,
                target.id,
                target.currency,
                draft.amount,
                draft.received,
            )
        elif draft.kind is TxnKind.OPENING:
            lines = entries.opening_lines(account.id, account.currency, draft.amount)
        else:
            raise ValidationError(N_("Choose expense, income or transfer."), field="kind")
    entries.require_balanced(lines)
    return lines


def snapshot(txn: BookTransaction) -> dict[str, Any]:
    """Everything an undo needs to put the transaction back as it was."""
    return {
        "kind": txn.kind.value,
        "occurred_on": txn.occurred_on.isoformat(),
        "payee": txn.payee,
        "note": txn.note,
        "tags": txn.tags,
        "deleted": txn.deleted_at is not None,
        "postings": [
            [p.account_id, p.category_id, p.amount, p.currency, p.memo] for p in txn.postings
        ],
    }


def describe(txn: BookTransaction) -> str:
    """A one-line summary for the audit trail: date, payee and the account side."""
    total = sum(p.amount for p in txn.postings if p.account_id is not None and p.amount < 0)
    return f"{txn.occurred_on.isoformat()} {txn.payee} {-total or ''}".strip()


def _restore(txn: BookTransaction, user_id: int, state: dict[str, Any]) -> None:
    txn.kind = TxnKind(state["kind"])
    txn.occurred_on = date.fromisoformat(state["occurred_on"])
    txn.payee, txn.note, txn.tags = state["payee"], state["note"], state["tags"]
    txn.deleted_at = utcnow() if state.get("deleted") else None
    txn.postings = [
        BookPosting(
            user_id=user_id,
            account_id=a,
            category_id=c,
            amount=int(amount),
            currency=cur,
            memo=memo,
        )
        for a, c, amount, cur, memo in state["postings"]
    ]
    txn.updated_at = utcnow()


def _editable(
    session: Session, user_id: int, txn_id: int, expected_version: int | None
) -> BookTransaction:
    txn = get_transaction(session, user_id, txn_id)
    if txn.kind is TxnKind.CLAN:
        raise Conflict(READ_ONLY)
    if txn.deleted_at is not None:
        raise Conflict(N_("This transaction was deleted."))
    if expected_version is not None and txn.version != expected_version:
        raise Conflict(STALE)
    return txn


def _same_scale(source: BookAccount, target: BookAccount) -> None:
    """Both sides of a transfer in one currency hold the same number: refuse accounts that
    keep that currency with different decimals rather than store a wrong amount."""
    if source.currency == target.currency and source.minor_digits != target.minor_digits:
        raise ValidationError(
            N_(
                "These two %(currency)s accounts keep different decimals: a transfer between "
                "them is not supported."
            ),
            field="to",
            params={"currency": source.currency},
        )


def _own_account(session: Session, user_id: int, account_id: int) -> BookAccount:
    try:
        account = get_account(session, user_id, account_id)
    except NotFound:
        raise ValidationError(N_("Choose one of your accounts."), field="account") from None
    if account.read_only:
        raise ValidationError(READ_ONLY, field="account")
    return account


def _check_categories(
    session: Session, user_id: int, kind: TxnKind, splits: Sequence[Split]
) -> None:
    wanted = CategoryKind.EXPENSE if kind is TxnKind.EXPENSE else CategoryKind.INCOME
    for split in splits:
        try:
            category: BookCategory = get_category(session, user_id, split.category_id)
        except NotFound:
            raise ValidationError(N_("Choose one of your categories."), field="category") from None
        if category.kind is not wanted:
            raise ValidationError(
                N_("Choose an expense category for an expense, an income one for an income."),
                field="category",
            )


def _posting(user_id: int, line: Line) -> BookPosting:
    return BookPosting(
        user_id=user_id,
        account_id=line.account_id,
        category_id=line.category_id,
        amount=line.amount,
        currency=line.currency,
        memo=line.memo[:200],
    )


def _clip(text: str, limit: int, field_name: str) -> str:
    text = str(text or "").strip()
    if len(text) > limit:
        raise ValidationError(
            N_("At most %(max)d characters."), field=field_name, params={"max": limit}
        )
    return text
