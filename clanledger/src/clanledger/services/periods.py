"""Settlement periods: a calendar month in the clan's timezone (the default period).

A closed period is locked: :func:`_guard_closed_periods` refuses, at flush time, any insert,
update or delete of its journal entries and postings, and :func:`lock_period` lets writers and
the close take row locks so a sale racing a close cannot slip in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from clanledger.domain.errors import PeriodClosed
from clanledger.domain.messages import N_
from clanledger.domain.period import AccountingPeriod
from clanledger.models import (
    Clan,
    JournalEntry,
    Period,
    PeriodStatus,
    Posting,
    Role,
    Transfer,
    TransferStatus,
)
from clanledger.models.types import utcnow
from clanledger.services import authz
from clanledger.services.errors import Conflict, NotFound


class PeriodLocked(Conflict):
    """A write into the journal of a closed period."""


MONTH_CLOSED = N_(
    "%(month)s is closed: record this in the open month as a correction, "
    "or ask the leader to reopen %(month)s."
)
CLOSED_JOURNAL = N_(
    "The journal of a closed month cannot change: record a correction in the open month."
)


def local_day(clan: Clan, when: datetime) -> date:
    """The calendar day of ``when`` (aware) in the clan's timezone."""
    return when.astimezone(ZoneInfo(clan.timezone)).date()


def month_has_ended(clan: Clan, period: Period, now: datetime | None = None) -> bool:
    """Whether the period's last day is over in the clan's timezone."""
    return local_day(clan, now or utcnow()) > period.ends_on


def period_bounds(clan: Clan, day: date) -> tuple[date, date]:
    """First and last day (inclusive) of the period containing ``day``."""
    start = day.replace(day=1)
    return start, start + relativedelta(months=1) - relativedelta(days=1)


def period_for_day(session: Session, clan: Clan, day: date) -> Period:
    """The period containing ``day``, created open if it does not exist yet."""
    start, end = period_bounds(clan, day)
    period = session.execute(
        select(Period).where(Period.clan_id == clan.id, Period.starts_on == start)
    ).scalar_one_or_none()
    if period is None:
        period = Period(clan_id=clan.id, starts_on=start, ends_on=end, status=PeriodStatus.OPEN)
        session.add(period)
        session.flush()
    return period


def ensure_period_open(period: Period, day: date | None = None, what: str = "an entry") -> None:
    """The closed-period rule for writers (:meth:`domain.period.AccountingPeriod.require_open`)
    applied to a stored period; the flush guard below is the last line of defence.

    ``day`` (a local day in the period; its first day by default) is what the entry is dated.
    A stored period's ``ends_on`` is inclusive; the domain period's ``end`` is exclusive.

    Raises:
        PeriodLocked: the period is closed (post a correction into the open period instead).
    """
    rule = AccountingPeriod(
        period.starts_on,
        period.ends_on + relativedelta(days=1),
        closed=period.status == PeriodStatus.CLOSED,
    )
    try:
        rule.require_open(period.starts_on if day is None else day, what)
    except PeriodClosed as exc:
        raise PeriodLocked(MONTH_CLOSED, {"month": period.starts_on}) from exc


def lock_period(session: Session, period_id: int, *, exclusive: bool = False) -> Period:
    """Read the period row under a lock and refresh it from the database.

    Writers into a period take a shared lock (``FOR SHARE`` on PostgreSQL) and the close takes
    an exclusive one (``FOR UPDATE``): a sale that races a close either commits before the
    close reads the balances, or waits and then sees the period closed. SQLite has no row
    locks; it serialises writers on the whole database instead.
    """
    query = (
        select(Period)
        .where(Period.id == period_id)
        .with_for_update(read=not exclusive)
        .execution_options(populate_existing=True)
    )
    return session.execute(query).scalar_one()


def next_period(session: Session, clan: Clan, period: Period) -> Period:
    """The period after ``period`` (created open if needed)."""
    return period_for_day(session, clan, period.ends_on + relativedelta(days=1))


def _touched_periods(session: Session) -> set[int]:
    """Periods whose journal rows this flush inserts, changes or deletes."""
    ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(obj, JournalEntry | Posting):
            continue
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue
        history = inspect(obj).attrs.period_id.history
        ids.update(pid for pid in (*history.added, *history.unchanged, *history.deleted) if pid)
        if obj.period_id is not None:
            ids.add(obj.period_id)
    return ids


def _guard_closed_periods(session: Session, flush_context: Any, instances: Any) -> None:
    """Refuse any flush that would insert, change or delete journal rows of a closed period.

    This is the last line of defence under the services: whatever code path tries it, the
    postings of a closed period never change. A period counts as closed if it is closed in the
    database or in this session.
    """
    ids = _touched_periods(session)
    if not ids:
        return
    with session.no_autoflush:
        closed = set(
            session.execute(
                select(Period.id).where(Period.id.in_(ids), Period.status == PeriodStatus.CLOSED)
            ).scalars()
        )
        for obj in session.identity_map.values():
            if isinstance(obj, Period) and obj.id in ids and obj.status == PeriodStatus.CLOSED:
                closed.add(obj.id)
    if closed:
        raise PeriodLocked(CLOSED_JOURNAL)


def install_closed_period_guard() -> None:
    """Refuse, at every flush of any session, journal writes into a closed period
    (idempotent; :func:`clanledger.create_app` calls it)."""
    if not event.contains(Session, "before_flush", _guard_closed_periods):
        event.listen(Session, "before_flush", _guard_closed_periods)


def load_period(session: Session, clan_id: int, period_id: int) -> Period:
    period = session.get(Period, period_id)
    if period is None or period.clan_id != clan_id:
        raise NotFound()
    return period


@dataclass(frozen=True)
class PeriodRow:
    period: Period
    entries: int
    outstanding: int


def list_periods(session: Session, actor_id: int, clan_id: int) -> list[PeriodRow]:
    """Every period of the clan, newest first, with entry and outstanding transfer counts."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    entries = dict(
        session.execute(
            select(JournalEntry.period_id, func.count(JournalEntry.id))
            .where(JournalEntry.clan_id == clan_id)
            .group_by(JournalEntry.period_id)
        ).all()
    )
    outstanding = dict(
        session.execute(
            select(Transfer.period_id, func.count(Transfer.id))
            .where(Transfer.clan_id == clan_id, Transfer.status != TransferStatus.CONFIRMED)
            .group_by(Transfer.period_id)
        ).all()
    )
    periods = session.execute(
        select(Period).where(Period.clan_id == clan_id).order_by(Period.starts_on.desc())
    ).scalars()
    return [PeriodRow(p, entries.get(p.id, 0), outstanding.get(p.id, 0)) for p in periods]


def clan_periods(session: Session, clan_id: int) -> list[Period]:
    """Every period of the clan, newest first."""
    return list(
        session.execute(
            select(Period).where(Period.clan_id == clan_id).order_by(Period.starts_on.desc())
        ).scalars()
    )


def period_starting(session: Session, clan_id: int, start: date) -> Period | None:
    """The clan's period that starts on ``start``, if anything was posted in it."""
    return session.execute(
        select(Period).where(Period.clan_id == clan_id, Period.starts_on == start)
    ).scalar_one_or_none()


def period_containing(session: Session, clan: Clan, day: date) -> Period:
    """The clan's period containing ``day``; a new, unsaved open one if nothing was posted
    in it yet (reading a page never writes)."""
    start, end = period_bounds(clan, day)
    found = session.execute(
        select(Period).where(Period.clan_id == clan.id, Period.starts_on == start)
    ).scalar_one_or_none()
    return found or Period(clan_id=clan.id, starts_on=start, ends_on=end, status=PeriodStatus.OPEN)


def open_period_from(session: Session, clan: Clan, day: date) -> Period:
    """The month a page opens on by default: the one containing ``day``, or, once that is
    closed (closed early by the leader), the first month after it that is still open."""
    period = period_containing(session, clan, day)
    while period.status == PeriodStatus.CLOSED:
        period = period_containing(session, clan, period.ends_on + relativedelta(days=1))
    return period


def period_choice(
    session: Session, clan: Clan, period_id: int | None
) -> tuple[Period, list[Period]]:
    """The period a page shows (``period_id``, else the current one, unsaved if nothing was
    posted in it yet) and every period of the clan, newest first, for the picker."""
    periods = list(
        session.execute(
            select(Period).where(Period.clan_id == clan.id).order_by(Period.starts_on.desc())
        ).scalars()
    )
    if period_id is None:
        current = open_period_from(session, clan, local_day(clan, utcnow()))
        if current.id is None:
            periods.insert(0, current)
        return current, periods
    found = next((p for p in periods if p.id == period_id), None)
    if found is None:
        raise NotFound()
    return found, periods
