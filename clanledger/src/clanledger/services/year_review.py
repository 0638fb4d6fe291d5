"""The year in review: a clan's year (in its timezone) at a glance: income by month, the
bosses that earned the most, the best sale, attendance by member and what netting saved.
The figures come from :mod:`clanledger.services.trends`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clanledger.domain.messages import N_
from clanledger.models import Attendance, Character, Clan, Kill, Period, Sale
from clanledger.models.types import utcnow
from clanledger.services import authz
from clanledger.services.errors import ValidationError
from clanledger.services.periods import local_day
from clanledger.services.trends import (
    MonthFigure,
    Ranked,
    by_month,
    closed_savings,
    kills_between,
    ranked,
    sales_between,
    utc_bounds,
)

FIRST_YEAR, LAST_YEAR = 2000, 2100  # a year outside these is a mistyped URL
BAD_YEAR = N_("Choose a year between %(first)s and %(last)s.")


@dataclass
class YearReview:
    clan: Clan
    year: int
    years: list[int]
    income: list[MonthFigure]
    bosses: list[Ranked]
    best_sale: Any = None  # a sales row: received, sold_at, item, boss
    attendance: list[Ranked] = field(default_factory=list)
    kills: int = 0
    saved: int = 0
    closes: int = 0

    @property
    def total_income(self) -> int:
        return sum(m.value for m in self.income)

    @property
    def sales(self) -> int:
        return sum(m.count for m in self.income)

    @property
    def is_empty(self) -> bool:
        return not self.kills and not self.sales and not self.closes


def clan_years(session: Session, clan: Clan, now: datetime) -> list[int]:
    """Every year from the clan's first kill, sale or period to this year, newest first."""
    first_kill, first_sale, first_period = session.execute(
        select(
            select(func.min(Kill.killed_at)).where(Kill.clan_id == clan.id).scalar_subquery(),
            select(func.min(Sale.sold_at)).where(Sale.clan_id == clan.id).scalar_subquery(),
            select(func.min(Period.starts_on)).where(Period.clan_id == clan.id).scalar_subquery(),
        )
    ).one()
    this_year = local_day(clan, now).year
    starts = [local_day(clan, t).year for t in (first_kill, first_sale) if t is not None]
    if first_period is not None:
        starts.append(first_period.year)
    return list(range(this_year, min([this_year, *starts]) - 1, -1))


def require_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError(BAD_YEAR, "year", {"first": FIRST_YEAR, "last": LAST_YEAR})
    return year


def _attendance_ranking(session: Session, clan: Clan, start: datetime, end: datetime) -> list:
    rows = session.execute(
        select(Character.name, func.count(Attendance.id))
        .join(Attendance, Attendance.character_id == Character.id)
        .join(Kill, Kill.id == Attendance.kill_id)
        .where(Kill.clan_id == clan.id, Kill.killed_at >= start, Kill.killed_at < end)
        .group_by(Character.id, Character.name)
    ).all()
    return sorted(
        (Ranked(name, int(n), int(n)) for name, n in rows), key=lambda r: (-r.value, r.label)
    )


def year_review(
    session: Session, actor_id: int, clan_id: int, year: int | None, now: datetime | None = None
) -> YearReview:
    """The year's highlights (this year when ``year`` is None): income by month, the bosses
    that earned the most, the best sale, attendance by member and what netting saved."""
    clan = authz.get_clan(session, actor_id, clan_id)
    now = now or utcnow()
    year = require_year(year if year is not None else local_day(clan, now).year)
    months = [date(year, m, 1) for m in range(1, 13)]
    start, end = utc_bounds(clan, months[0], months[-1])
    rows = sales_between(session, clan, start, end)
    best = max(rows, key=lambda r: (r.received, -r.id), default=None)
    saved, closes = closed_savings(session, clan, year)
    return YearReview(
        clan=clan,
        year=year,
        years=clan_years(session, clan, now),
        income=by_month(clan, months, rows),
        bosses=ranked(rows, "boss"),
        best_sale=best,
        attendance=_attendance_ranking(session, clan, start, end),
        kills=len(kills_between(session, clan, start, end)),
        saved=saved,
        closes=closes,
    )
