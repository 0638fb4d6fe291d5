"""The personal audit trail in words: each change with what it changed, newest first.

A change is a list of :class:`Change` items (an ``N_`` msgid and its parameters) that the
web translates; which rows can be undone is decided here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clanledger.domain.book.money import format_amount
from clanledger.domain.messages import N_
from clanledger.models.book import BookAccount, BookAudit, BookCategory

PAGE_SIZE = 30
UNDOABLE = frozenset({"create", "update", "delete"})

ACTION_LABELS: dict[str, str] = {
    "create": N_("Added"),
    "update": N_("Changed"),
    "delete": N_("Deleted"),
    "undo": N_("Undone"),
    "restore": N_("Restored"),
}
ENTITY_LABELS: dict[str, str] = {
    "transaction": N_("Transaction"),
    "account": N_("Account"),
    "category": N_("Category"),
}


@dataclass(frozen=True)
class Change:
    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class AuditRow:
    audit: BookAudit
    changes: list[Change]
    undoable: bool


@dataclass
class AuditPage:
    rows: list[AuditRow]
    page: int
    pages: int


def audit_page(session: Session, user_id: int, page: int = 1, size: int = PAGE_SIZE) -> AuditPage:
    """One page of the user's audit trail, newest first, each row in words."""
    total = session.scalar(select(func.count()).where(BookAudit.user_id == user_id)) or 0
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    audits = list(
        session.scalars(
            select(BookAudit)
            .where(BookAudit.user_id == user_id)
            .order_by(BookAudit.id.desc())
            .offset((page - 1) * size)
            .limit(size)
        )
    )
    names = _names(session, user_id)
    rows = [
        AuditRow(
            audit=a,
            changes=describe(a.entity, a.before, a.after, names),
            undoable=a.entity == "transaction" and a.action in UNDOABLE and a.undone_at is None,
        )
        for a in audits
    ]
    return AuditPage(rows, page, pages)


def _names(session: Session, user_id: int) -> dict[str, dict[int, tuple[str, int]]]:
    accounts = session.execute(
        select(BookAccount.id, BookAccount.name, BookAccount.minor_digits).where(
            BookAccount.user_id == user_id
        )
    )
    categories = session.execute(
        select(BookCategory.id, BookCategory.name).where(BookCategory.user_id == user_id)
    )
    return {
        "account": {i: (n, d) for i, n, d in accounts},
        "category": {i: (n, 0) for i, n in categories},
    }


def describe(
    entity: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    names: dict[str, dict[int, tuple[str, int]]],
) -> list[Change]:
    """What changed between two snapshots, in words (empty when nothing is known)."""
    before, after = before or {}, after or {}
    if entity != "transaction":
        return _simple(before, after)
    if not before or not after:
        return []
    out = _simple(
        {k: before.get(k) for k in ("occurred_on", "payee", "note", "tags")},
        {k: after.get(k) for k in ("occurred_on", "payee", "note", "tags")},
    )
    old, new = _amount(before, names), _amount(after, names)
    if old != new:
        out.append(Change(N_("amount %(old)s → %(new)s"), {"old": old, "new": new}))
    old_cats, new_cats = _categories(before, names), _categories(after, names)
    if old_cats != new_cats:
        out.append(Change(N_("category %(old)s → %(new)s"), {"old": old_cats, "new": new_cats}))
    old_acc, new_acc = _accounts(before, names), _accounts(after, names)
    if old_acc != new_acc:
        out.append(Change(N_("account %(old)s → %(new)s"), {"old": old_acc, "new": new_acc}))
    if before.get("deleted") != after.get("deleted"):
        out.append(Change(N_("deleted") if after.get("deleted") else N_("restored")))
    return out


FIELD_LABELS: dict[str, str] = {
    "occurred_on": N_("date"),
    "payee": N_("payee"),
    "note": N_("note"),
    "tags": N_("tags"),
    "name": N_("name"),
    "archived": N_("archived"),
    "closing_day": N_("closing day"),
}


def _simple(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    out = []
    for key, label in FIELD_LABELS.items():
        if key in before and key in after and before[key] != after[key]:
            out.append(
                Change(
                    N_("%(field)s: %(old)s → %(new)s"),
                    {"field": label, "old": _shown(before[key]), "new": _shown(after[key])},
                )
            )
    return out


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


def _postings(state: dict[str, Any]) -> list[list[Any]]:
    return list(state.get("postings") or [])


def _amount(state: dict[str, Any], names: dict[str, dict[int, tuple[str, int]]]) -> str:
    for account_id, _cat, amount, currency, _memo in _postings(state):
        if account_id is not None:
            digits = names["account"].get(account_id, ("", 0))[1]
            return f"{currency} {format_amount(abs(int(amount)), digits)}"
    return "—"


def _categories(state: dict[str, Any], names: dict[str, dict[int, tuple[str, int]]]) -> str:
    found = [
        names["category"].get(cat, ("#" + str(cat), 0))[0]
        for _acc, cat, _amount, _cur, _memo in _postings(state)
        if cat is not None
    ]
    return ", ".join(found) or "—"


def _accounts(state: dict[str, Any], names: dict[str, dict[int, tuple[str, int]]]) -> str:
    found = [
        names["account"].get(acc, ("#" + str(acc), 0))[0]
        for acc, _cat, _amount, _cur, _memo in _postings(state)
        if acc is not None
    ]
    return " → ".join(found) or "—"


def last_audit_id(session: Session, user_id: int, entity: str, entity_id: int) -> int | None:
    """The newest audit row of one row of the book (what an undo button right after a
    change takes)."""
    return session.scalar(
        select(func.max(BookAudit.id)).where(
            BookAudit.user_id == user_id,
            BookAudit.entity == entity,
            BookAudit.entity_id == entity_id,
        )
    )
