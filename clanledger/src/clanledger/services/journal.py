"""Writing the journal: the one place where postings are created.

Every entry is balanced (its postings sum to zero), lands in an open period, and is never
edited: corrections are reversing entries with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clanledger.domain import ledger as dl
from clanledger.domain.messages import N_
from clanledger.models import Clan, EntryKind, JournalEntry, Period, Posting
from clanledger.services.errors import ValidationError
from clanledger.services.periods import ensure_period_open, local_day, lock_period, period_for_day


@dataclass(frozen=True)
class PostingLine:
    """One posting to write: ``account_kind`` is member | fund | fees."""

    account_kind: str
    character_id: int | None
    amount: int


def lines_from_domain(postings: Iterable[dl.LedgerPosting]) -> list[PostingLine]:
    """Convert domain postings into :class:`PostingLine` rows."""
    return [PostingLine(p.account.kind.value, p.account.id, int(p.amount)) for p in postings]


def domain_postings(entry: JournalEntry) -> list[dl.LedgerPosting]:
    """The postings of a stored entry as domain postings."""
    return [
        dl.LedgerPosting(dl.Account(dl.AccountKind(p.account_kind), p.character_id), p.amount)
        for p in entry.postings
    ]


def reversal_lines(entry: JournalEntry) -> list[PostingLine]:
    """The lines that exactly undo ``entry`` (:func:`domain.ledger.reversal_postings`)."""
    return lines_from_domain(dl.reversal_postings(domain_postings(entry)))


def _require_balanced(lines: Sequence[PostingLine]) -> None:
    if any(not isinstance(line.amount, int) or isinstance(line.amount, bool) for line in lines):
        raise ValidationError(N_("Amounts are whole diamonds."))
    total = sum(line.amount for line in lines)
    if total != 0:
        raise ValidationError(
            N_("The entry does not balance: its postings sum to %(total)s, not 0."),
            params={"total": total},
        )


def post_entry(
    session: Session,
    clan: Clan,
    *,
    kind: EntryKind,
    lines: Sequence[PostingLine],
    occurred_at: datetime,
    actor_id: int | None,
    memo: str = "",
    reason: str = "",
    source: tuple[str, int] | None = None,
    idempotency_key: str | None = None,
    period: Period | None = None,
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Write one balanced entry into the period containing ``occurred_at`` (or ``period``).

    Raises:
        ValidationError: the lines do not sum to zero, or an amount is not an integer.
        Conflict: the period is closed (post a correction into the open period instead).
    """
    _require_balanced(lines)
    if period is None:
        period = period_for_day(session, clan, local_day(clan, occurred_at))
    # A shared row lock: a close of this period waits for this entry, or this entry waits
    # for the close and then sees the period closed (see periods.lock_period).
    period = lock_period(session, period.id)
    ensure_period_open(period)
    entry = JournalEntry(
        clan_id=clan.id,
        period_id=period.id,
        kind=kind,
        occurred_at=occurred_at,
        memo=memo,
        reason=reason,
        source_type=source[0] if source else None,
        source_id=source[1] if source else None,
        idempotency_key=idempotency_key,
        reverses_id=reverses.id if reverses else None,
        created_by_id=actor_id,
    )
    entry.postings = [
        Posting(
            clan_id=clan.id,
            period_id=period.id,
            account_kind=line.account_kind,
            character_id=line.character_id,
            amount=line.amount,
        )
        for line in lines
        if line.amount != 0
    ]
    session.add(entry)
    session.flush()
    return entry


def member_balances(session: Session, clan_id: int, period_id: int | None = None) -> dict:
    """Sum of postings per account ``(account_kind, character_id)``, from postings only."""
    query = (
        select(Posting.account_kind, Posting.character_id, func.sum(Posting.amount))
        .where(Posting.clan_id == clan_id)
        .group_by(Posting.account_kind, Posting.character_id)
    )
    if period_id is not None:
        query = query.where(Posting.period_id == period_id)
    return {(kind, cid): int(total) for kind, cid, total in session.execute(query)}
