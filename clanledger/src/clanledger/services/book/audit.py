"""The personal audit trail: services call :func:`record` for every change they make."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clanledger.models.book import BookAudit


def record(
    session: Session,
    user_id: int,
    action: str,
    entity: str,
    entity_id: int | None,
    summary: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> BookAudit:
    """Add one audit row (flushed with the change it describes, committed with it)."""
    row = BookAudit(
        user_id=user_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        summary=summary[:255],
        before=before,
        after=after,
    )
    session.add(row)
    return row


def trail(session: Session, user_id: int, limit: int = 100, before_id: int | None = None):
    """The user's latest audit rows, newest first."""
    query = select(BookAudit).where(BookAudit.user_id == user_id)
    if before_id is not None:
        query = query.where(BookAudit.id < before_id)
    return list(session.scalars(query.order_by(BookAudit.id.desc()).limit(limit)))
