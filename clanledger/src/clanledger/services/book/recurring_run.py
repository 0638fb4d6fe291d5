"""Making the transactions of recurring rules that fall due.

:func:`run_due` runs on every visit to the book and from the ``flask book-recurring``
command. Each date is made once: its transaction carries ``source_ref =
recurring:<rule id>:<date>``, unique per user, so a second run at the same moment (two tabs,
the command and a visit) finds it made. The rule row is locked while its dates are made
(``FOR UPDATE`` on PostgreSQL; SQLite serialises writers), and a run that still loses a
race on the unique key rolls back and looks again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from clanledger.domain.book import recurring as schedule
from clanledger.domain.book.kinds import Frequency, TxnKind
from clanledger.domain.messages import N_
from clanledger.models.book import BookAccount, BookRecurring, BookTransaction
from clanledger.models.types import utcnow
from clanledger.services.book import transactions
from clanledger.services.book.recurring import first_date_after, set_paused
from clanledger.services.errors import Conflict, ValidationError, commit_or_conflict

MAX_CATCH_UP = 100
"""The most dates one rule makes in one run: a rule started years ago (a typo in the start
date) is paused with a reason instead of filling the book with hundreds of lines."""
TRIES = 3
DEFAULT_TIMEZONE = "Asia/Taipei"

ARCHIVED = N_("The account %(name)s is archived: the rule was paused.")
CAPPED = N_(
    "More than %(max)d dates were due at once: the first %(max)d (up to %(last)s) were made "
    "and the rule was paused. Check them; resuming continues from today."
)
REFUSED = N_("The transaction of %(date)s could not be made, so the rule was paused: %(error)s")


@dataclass
class RunReport:
    """What a run did: the dates made per rule name, and the rules it paused (with why)."""

    made: list[tuple[int, str, date]] = field(default_factory=list)
    paused: list[tuple[int, str, str, dict[str, Any]]] = field(default_factory=list)


def today_in(timezone: str | None) -> date:
    """Today's date in the book's timezone (``BOOK_TIMEZONE``; Asia/Taipei when unset or
    unknown)."""
    try:
        zone = ZoneInfo(timezone or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(DEFAULT_TIMEZONE)
    return utcnow().astimezone(zone).date()


def due_users(session: Session, today: date) -> list[int]:
    """The users with a rule due by ``today`` (for the command)."""
    return list(
        session.scalars(
            select(BookRecurring.user_id)
            .where(BookRecurring.active.is_(True), BookRecurring.next_on <= today)
            .distinct()
            .order_by(BookRecurring.user_id)
        )
    )


def run_due(session: Session, user_id: int, today: date) -> RunReport:
    """Make every transaction of the user's active rules due up to ``today`` that is not
    made yet (committed rule by rule). Cheap when nothing is due: one query."""
    report = RunReport()
    due = list(
        session.scalars(
            select(BookRecurring.id)
            .where(
                BookRecurring.user_id == user_id,
                BookRecurring.active.is_(True),
                BookRecurring.next_on <= today,
            )
            .order_by(BookRecurring.next_on, BookRecurring.id)
        )
    )
    session.commit()  # nothing written: ends the read so each rule runs on its own
    for rule_id in due:
        for attempt in range(TRIES):
            try:
                _run_rule(session, user_id, rule_id, today, report)
                break
            except Conflict:
                if attempt == TRIES - 1:
                    raise
    return report


def _run_rule(session: Session, user_id: int, rule_id: int, today: date, report: RunReport) -> None:
    """One rule: lock it, make its due dates, move ``next_on`` on, commit."""
    rule = session.scalar(
        select(BookRecurring)
        .where(BookRecurring.id == rule_id, BookRecurring.user_id == user_id)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE: inserts that refer to it go on
        .execution_options(populate_existing=True)
    )
    if rule is None or not rule.active or rule.next_on is None or rule.next_on > today:
        session.commit()
        return
    due = _due_dates(rule, today)
    if not due:
        rule.next_on = first_date_after(rule, today)
        commit_or_conflict(session, transactions.STALE)
        return
    blocked = _archived_account(session, rule)
    if blocked is not None:
        _pause(session, user_id, rule, report, ARCHIVED, {"name": blocked.name})
        return
    made = _existing(session, user_id, rule, due)
    pending = [when for when in due if when not in made]
    todo = pending[:MAX_CATCH_UP]
    try:
        for when in todo:
            transactions.record(
                session,
                user_id,
                _draft(rule, when),
                source_ref=source_ref(rule.id, when),
                recurring_id=rule.id,
                commit=False,
            )
    except ValidationError as error:
        session.rollback()
        rule = session.get(BookRecurring, rule_id)
        shown = error.text if error.params else error.message
        params = {"date": when.isoformat(), "error": shown}
        _pause(session, user_id, rule, report, REFUSED, params)
        return
    _advance(session, user_id, rule, todo, len(pending) > MAX_CATCH_UP, today, report)


def _advance(
    session: Session,
    user_id: int,
    rule: BookRecurring,
    todo: list[date],
    capped: bool,
    today: date,
    report: RunReport,
) -> None:
    """Move ``next_on`` past what was made and commit (pausing when the cap was hit)."""
    last = todo[-1] if capped else today
    rule.next_on = first_date_after(rule, last)
    name = rule.name
    if capped:
        params = {"max": MAX_CATCH_UP, "last": last.isoformat()}
        set_paused(session, user_id, rule, CAPPED, params)
    commit_or_conflict(session, transactions.STALE)
    report.made.extend((rule.id, name, when) for when in todo)
    if capped:
        report.paused.append((rule.id, name, CAPPED, params))


def _pause(
    session: Session,
    user_id: int,
    rule: BookRecurring,
    report: RunReport,
    reason: str,
    params: dict[str, Any],
) -> None:
    set_paused(session, user_id, rule, reason, params)
    name = rule.name
    commit_or_conflict(session, transactions.STALE)
    report.paused.append((rule.id, name, reason, params))


def _due_dates(rule: BookRecurring, today: date) -> list[date]:
    """The rule's dates from ``next_on`` to ``today`` (a few more than the cap at most)."""
    found: list[date] = []
    start = rule.next_on or rule.starts_on
    frequency = Frequency(rule.frequency)
    for when in schedule.dates(
        frequency, rule.every, rule.day, rule.starts_on, today, rule.ends_on
    ):
        if when >= start:
            found.append(when)
            if len(found) > MAX_CATCH_UP * 2:
                break
    return found


def _archived_account(session: Session, rule: BookRecurring) -> BookAccount | None:
    for account_id in (rule.account_id, rule.to_account_id):
        if account_id is None:
            continue
        account = session.get(BookAccount, account_id)
        if account is not None and account.archived:
            return account
    return None


def _existing(session: Session, user_id: int, rule: BookRecurring, due: list[date]) -> set[date]:
    """The dates among ``due`` already made (a deleted one counts: it is not made again)."""
    refs = {source_ref(rule.id, when): when for when in due}
    rows = session.scalars(
        select(BookTransaction.source_ref).where(
            BookTransaction.user_id == user_id, BookTransaction.source_ref.in_(list(refs))
        )
    )
    return {refs[ref] for ref in rows if ref in refs}


def source_ref(rule_id: int, when: date) -> str:
    """The unique mark of the transaction a rule made on ``when``."""
    return f"recurring:{rule_id}:{when.isoformat()}"


def _draft(rule: BookRecurring, when: date) -> transactions.Draft:
    kind = TxnKind(rule.kind)
    return transactions.Draft(
        kind=kind,
        occurred_on=when,
        account_id=rule.account_id,
        amount=int(rule.amount),
        category_id=rule.category_id if kind is not TxnKind.TRANSFER else None,
        to_account_id=rule.to_account_id if kind is TxnKind.TRANSFER else None,
        payee=rule.payee or rule.name,
        note=rule.note,
    )
