"""Settlement periods: a calendar month in the clan's timezone (the default period)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from clanledger.models import Clan, Period, PeriodStatus


def local_day(clan: Clan, when: datetime) -> date:
    """The calendar day of ``when`` (aware) in the clan's timezone."""
    return when.astimezone(ZoneInfo(clan.timezone)).date()


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


def current_open_period(session: Session, clan: Clan) -> Period | None:
    """The earliest open period of the clan (where corrections land), if any."""
    return session.execute(
        select(Period)
        .where(Period.clan_id == clan.id, Period.status == PeriodStatus.OPEN)
        .order_by(Period.starts_on)
        .limit(1)
    ).scalar_one_or_none()
