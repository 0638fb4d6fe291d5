"""Reading the audit log: who changed what, with readable before/after differences.

The rows are written automatically by :mod:`clanledger.services.audit`; this module only
reads them, for officers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from clanledger.models import AuditLog, Boss, Character, Drop, Membership, Role, Sale, User
from clanledger.services import authz
from clanledger.services.paging import LIKE_ESCAPE, contains_pattern, page_window

PAGE_SIZE = 50
# Columns never shown: secrets (even hashed) and bookkeeping that changes on every update.
HIDDEN_FIELDS = {"password_hash", "token_hash", "claim_token_hash", "version"}
REDACTED = "••••"


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any
    before_label: str | None = None  # a name for an id ("12" -> "夜風"), when known
    after_label: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    row: AuditLog
    actor: User | None
    changes: list[FieldChange]


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    page: int
    pages: int
    total: int
    entity_types: list[str]


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[FieldChange]:
    """The fields that differ (all fields of a created or deleted row), secrets masked."""
    before, after = before or {}, after or {}
    changes = []
    for field in sorted(set(before) | set(after)):
        if field in ("id", "clan_id"):  # the page is about this clan already
            continue
        old, new = before.get(field), after.get(field)
        if before and after and old == new:
            continue
        if field.endswith("_hash") or field in HIDDEN_FIELDS:
            if field == "version":
                continue
            old = REDACTED if old else old
            new = REDACTED if new else new
        changes.append(FieldChange(field, old, new))
    return changes


@dataclass(frozen=True)
class AuditSearch:
    """A text search of the audit log: who made the change, what kind of record it is, or
    which item, character or boss (by name, or ``#id`` of the record)."""

    text: str
    kinds: tuple[str, ...] = ()  # record kinds whose name, in the reader's language, matches


def _named_record_ids(session: Session, clan_id: int, pattern: str):
    """``(entity_type, ids)`` of the clan's named records whose name matches ``pattern``; a
    sale is found by its item's name."""
    drops = select(Drop.id).where(
        Drop.clan_id == clan_id, Drop.name.ilike(pattern, escape=LIKE_ESCAPE)
    )
    return [
        ("Drop", drops),
        ("Sale", select(Sale.id).where(Sale.clan_id == clan_id, Sale.drop_id.in_(drops))),
        (
            "Character",
            select(Character.id).where(
                Character.clan_id == clan_id, Character.name.ilike(pattern, escape=LIKE_ESCAPE)
            ),
        ),
        (
            "Boss",
            select(Boss.id).where(
                Boss.clan_id == clan_id, Boss.name.ilike(pattern, escape=LIKE_ESCAPE)
            ),
        ),
    ]


def _search_condition(session: Session, clan_id: int, search: AuditSearch):
    """The rows ``search`` finds: by actor name, record kind, a named record, or ``#id``."""
    pattern = contains_pattern(search.text)
    actors = select(User.id).where(User.display_name.ilike(pattern, escape=LIKE_ESCAPE))
    found = [AuditLog.actor_id.in_(actors)]
    if search.kinds:
        found.append(AuditLog.entity_type.in_(search.kinds))
    for entity_type, ids in _named_record_ids(session, clan_id, pattern):
        found.append(and_(AuditLog.entity_type == entity_type, AuditLog.entity_id.in_(ids)))
    record_id = search.text.strip().removeprefix("#")
    if record_id.isascii() and record_id.isdigit() and len(record_id) <= 18:
        found.append(AuditLog.entity_id == int(record_id))
    return or_(*found)


def audit_page(
    session: Session,
    actor_id: int,
    clan_id: int,
    page: int = 1,
    entity_type: str | None = None,
    since: datetime | None = None,
    search: AuditSearch | None = None,
) -> AuditPage:
    """One page of the clan's audit log, newest first (officers and the leader), narrowed to
    a kind of record and to what ``search`` finds."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    where = [AuditLog.clan_id == clan_id]
    if entity_type:
        where.append(AuditLog.entity_type == entity_type)
    if since is not None:
        where.append(AuditLog.at >= since)
    if search is not None and search.text.strip():
        where.append(_search_condition(session, clan_id, search))
    total = session.execute(select(func.count()).select_from(AuditLog).where(*where)).scalar_one()
    page, pages, offset = page_window(total, page, PAGE_SIZE)
    rows = session.execute(
        select(AuditLog, User)
        .outerjoin(User, User.id == AuditLog.actor_id)
        .where(*where)
        .order_by(AuditLog.id.desc())
        .limit(PAGE_SIZE)
        .offset(offset)
    ).all()
    types = session.execute(
        select(AuditLog.entity_type)
        .where(AuditLog.clan_id == clan_id)
        .distinct()
        .order_by(AuditLog.entity_type)
    ).scalars()
    entries = [AuditEntry(row, user, diff(row.before, row.after)) for row, user in rows]
    entries = _with_names(session, clan_id, entries)
    return AuditPage(entries, page, pages, total, list(types))


def _is_character_field(field: str) -> bool:
    return field.endswith("character_id")


def _is_user_field(field: str) -> bool:
    return field in ("user_id", "actor_id", "created_by_id", "closed_by_id")


def _with_names(session: Session, clan_id: int, entries: list[AuditEntry]) -> list[AuditEntry]:
    """Attach character and player names to id fields (only names from this clan)."""
    character_ids, user_ids = set(), set()
    for entry in entries:
        for change in entry.changes:
            ids = {v for v in (change.before, change.after) if isinstance(v, int)}
            if _is_character_field(change.field):
                character_ids |= ids
            elif _is_user_field(change.field):
                user_ids |= ids
    characters = dict(
        session.execute(
            select(Character.id, Character.name).where(
                Character.clan_id == clan_id, Character.id.in_(character_ids)
            )
        ).all()
    )
    users = dict(
        session.execute(
            select(User.id, User.display_name)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.clan_id == clan_id, User.id.in_(user_ids))
        ).all()
    )
    named = []
    for entry in entries:
        changes = []
        for change in entry.changes:
            names = characters if _is_character_field(change.field) else users
            if _is_character_field(change.field) or _is_user_field(change.field):
                change = replace(
                    change,
                    before_label=names.get(change.before),
                    after_label=names.get(change.after),
                )
            changes.append(change)
        named.append(replace(entry, changes=changes))
    return named
