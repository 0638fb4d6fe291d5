"""Idempotent API writes: the first answer to a key is kept and given again on a retry.

A key belongs to one token and one route (method and path). A retry with the same body gets
the first answer; the same key with another body is refused, so a client that reused a key
by mistake learns it instead of silently getting another write's answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clanledger.domain.messages import N_
from clanledger.models import IdempotentResponse
from clanledger.services.errors import Conflict, ValidationError

MAX_KEY_LENGTH = 255
BAD_KEY = N_("The Idempotency-Key is 1 to 255 visible ASCII characters.")
KEY_REUSED = N_("This Idempotency-Key was used for a different request. Use a new key.")
KEY_IN_USE = N_("A request with this Idempotency-Key is being handled. Retry in a moment.")


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: str


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(" " < c <= "~" for c in key):
        raise ValidationError(BAD_KEY, field="Idempotency-Key")
    return key


def stored_answer(
    session: Session, token_id: int, route: str, key: str, request_hash: str
) -> StoredAnswer | None:
    """The answer kept for ``key``, or ``None`` when the key is new.

    Raises:
        ValidationError: the key was used with another body (422).
    """
    found = session.execute(
        select(IdempotentResponse).where(
            IdempotentResponse.token_id == token_id,
            IdempotentResponse.route == route,
            IdempotentResponse.key == check_key(key),
        )
    ).scalar_one_or_none()
    session.rollback()  # nothing to hold: the write that follows opens its own transaction
    if found is None:
        return None
    if found.request_hash != request_hash:
        raise ValidationError(KEY_REUSED, field="Idempotency-Key")
    return StoredAnswer(found.status, found.body)


def keep_answer(
    session: Session, token_id: int, route: str, key: str, request_hash: str, answer: StoredAnswer
) -> None:
    """Keep the first answer to ``key``. Two first requests at once: the second is 409."""
    session.add(
        IdempotentResponse(
            token_id=token_id,
            route=route,
            key=key,
            request_hash=request_hash,
            status=answer.status,
            body=answer.body,
        )
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(KEY_IN_USE) from None
