"""Automatic audit log: every insert, update and delete of a clan-owned row (any model with
a ``clan_id`` column) records who did it, when, and the values before and after.

Services name the actor once per unit of work with :func:`set_actor`; the listener below
does the rest, so no service can forget to audit. :func:`install_audit_listeners` turns
it on (``create_app`` calls it).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Mapper, Session

from clanledger.models import AuditLog, Clan, Posting
from clanledger.models.types import utcnow

# Rows that are themselves a record of an event, or are covered by their parent's row.
NOT_AUDITED = {AuditLog, Posting}
ACTOR_KEY = "audit_actor_id"


def set_actor(session: Session, user_id: int | None) -> None:
    """Name the user whose changes the session is about to flush."""
    session.info[ACTOR_KEY] = user_id


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Fraction | Decimal):
        return str(value)
    return value


def _row(obj: Any) -> dict[str, Any]:
    mapper = inspect(obj).mapper
    return {attr.key: _plain(getattr(obj, attr.key)) for attr in mapper.column_attrs}


def _before(obj: Any) -> dict[str, Any]:
    state = inspect(obj)
    values = {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if history.deleted:
            values[attr.key] = _plain(history.deleted[0])
        else:
            values[attr.key] = _plain(getattr(obj, attr.key))
    return values


def _entity_id(obj: Any) -> Any:
    """The row's primary key; read from the instance because a row created in this flush
    has no identity key yet when ``after_flush`` runs."""
    values = inspect(obj).mapper.primary_key_from_instance(obj)
    return values[0] if values else None


def _audited(obj: Any) -> bool:
    return type(obj) not in NOT_AUDITED and (isinstance(obj, Clan) or hasattr(obj, "clan_id"))


def _clan_id(obj: Any, before: dict | None) -> Any:
    """The clan a row belongs to; a clan's own settings are audited in the clan itself."""
    if isinstance(obj, Clan):
        return obj.id
    return getattr(obj, "clan_id", None) or (before or {}).get("clan_id")


def _ignore(target: Any, value: Any, oldvalue: Any, initiator: Any) -> None:
    return None


def _keep_old_values(mapper: Mapper, cls: type) -> None:
    """Load the old value when an expired attribute is set, so "before" is never lost."""
    if cls in NOT_AUDITED or ("clan_id" not in mapper.columns and cls is not Clan):
        return
    for attr in mapper.column_attrs:
        if not event.contains(getattr(cls, attr.key), "set", _ignore):
            event.listen(getattr(cls, attr.key), "set", _ignore, active_history=True)


def _record_changes(session: Session, flush_context: Any) -> None:
    actor = session.info.get(ACTOR_KEY)
    now = utcnow()
    rows: list[dict[str, Any]] = []

    def add(obj: Any, action: str, before: dict | None, after: dict | None) -> None:
        clan_id = _clan_id(obj, before)
        if clan_id is None:
            return
        rows.append(
            {
                "clan_id": clan_id,
                "actor_id": actor,
                "at": now,
                "action": action,
                "entity_type": type(obj).__name__,
                "entity_id": _entity_id(obj),
                "before": before,
                "after": after,
            }
        )

    for obj in session.new:
        if _audited(obj):
            add(obj, "create", None, _row(obj))
    for obj in session.dirty:
        if _audited(obj) and session.is_modified(obj, include_collections=False):
            before, after = _before(obj), _row(obj)
            if before != after:
                add(obj, "update", before, after)
    for obj in session.deleted:
        if _audited(obj):
            add(obj, "delete", _before(obj), None)
    if rows:
        session.connection().execute(insert(AuditLog.__table__), rows)


def install_audit_listeners() -> None:
    """Record every change of a clan-owned row at each flush (idempotent;
    :func:`clanledger.create_app` calls it before any mapper is configured)."""
    if not event.contains(Mapper, "mapper_configured", _keep_old_values):
        event.listen(Mapper, "mapper_configured", _keep_old_values)
        for mapper in AuditLog.registry.mappers:  # any configured before this call
            if mapper.configured:
                _keep_old_values(mapper, mapper.class_)
    if not event.contains(Session, "after_flush", _record_changes):
        event.listen(Session, "after_flush", _record_changes)
