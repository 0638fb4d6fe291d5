"""The clan dashboard: who holds what, the period's sales and distributions, the clan fund,
what netting will save against paying every share after each sale, and attendance.

Every number comes from a fixed number of grouped queries (no N+1), so the page costs the
same with ten sales or ten thousand.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from clanledger.domain.collation import sort_key
from clanledger.domain.errors import DomainError
from clanledger.domain.ledger import AccountKind
from clanledger.domain.savings import Savings
from clanledger.models import (
    Attendance,
    Character,
    Clan,
    Drop,
    JournalEntry,
    Kill,
    Period,
    PeriodStatus,
    Posting,
    Sale,
    SaleKind,
)
from clanledger.models.types import utcnow
from clanledger.services import authz
from clanledger.services.close_preview import period_savings
from clanledger.services.drops import OPEN_STATUSES
from clanledger.services.errors import ServiceError
from clanledger.services.periods import local_day, open_period_from, period_containing


@dataclass
class Holding:
    """One holder: the items they still hold (oldest first) and the diamonds they hold."""

    character_id: int
    name: str
    items: list[Drop] = field(default_factory=list)
    diamonds_held: int = 0

    @property
    def oldest(self) -> datetime | None:
        return self.items[0].created_at if self.items else None


@dataclass(frozen=True)
class SalesSummary:
    count: int
    gross: int
    received: int
    internal_count: int
    internal_total: int
    fund_cut: int
    distributed: int
    mismatches: int

    @property
    def exchange_fees(self) -> int:
        """What the exchange kept from the period's sales (listing prices - received)."""
        return self.gross - self.received


@dataclass(frozen=True)
class Bar:
    label: str
    value: int


@dataclass
class Dashboard:
    clan: Clan
    period: Period
    holdings: list[Holding]
    sales: SalesSummary
    fund_balance: int
    savings: Savings | None
    savings_error: str | None
    attendance: list[Bar]
    sales_by_day: list[Bar]
    my_balance: int
    my_characters: list[int]
    kills_count: int
    closed_period: Period | None = None  # today's month, when it is already closed


def period_bounds_utc(clan: Clan, period: Period) -> tuple[datetime, datetime]:
    """The period's first and last instant (exclusive) in UTC, from the clan's timezone."""
    tz = ZoneInfo(clan.timezone)
    start = datetime.combine(period.starts_on, time(), tz)
    end = datetime.combine(period.ends_on + timedelta(days=1), time(), tz)
    return start, end


def _holdings(session: Session, clan_id: int, balances: dict[int, int]) -> list[Holding]:
    drops = session.execute(
        select(Drop)
        .where(Drop.clan_id == clan_id, Drop.status.in_(OPEN_STATUSES))
        .order_by(Drop.created_at, Drop.id)
        .options(selectinload(Drop.kill).selectinload(Kill.boss))
    ).scalars()
    names = dict(
        session.execute(
            select(Character.id, Character.name).where(Character.clan_id == clan_id)
        ).all()
    )
    holders: dict[int, Holding] = {}
    for drop in drops:
        cid = drop.holder_character_id
        holders.setdefault(cid, Holding(cid, names.get(cid, f"#{cid}"))).items.append(drop)
    for cid, balance in balances.items():
        if balance < 0:
            holders.setdefault(
                cid, Holding(cid, names.get(cid, f"#{cid}"))
            ).diamonds_held = -balance
    far_future = datetime.max.replace(tzinfo=UTC)
    return sorted(holders.values(), key=lambda h: (h.oldest or far_future, -h.diamonds_held))


def _sales(session: Session, clan_id: int, period: Period) -> tuple[SalesSummary, list[Sale]]:
    sales = list(
        session.execute(
            select(Sale)
            .join(JournalEntry, JournalEntry.id == Sale.entry_id)
            .where(Sale.clan_id == clan_id, JournalEntry.period_id == period.id)
            .order_by(Sale.sold_at)
        ).scalars()
    )
    # Shares and fund cuts of the sales' current entries (a corrected sale counts once).
    by_account = dict(
        session.execute(
            select(Posting.account_kind, func.sum(Posting.amount))
            .join(Sale, Sale.entry_id == Posting.entry_id)
            .where(Posting.period_id == period.id, Posting.clan_id == clan_id, Posting.amount > 0)
            .group_by(Posting.account_kind)
        ).all()
    )
    exchange = [s for s in sales if s.kind == SaleKind.EXCHANGE]
    internal = [s for s in sales if s.kind == SaleKind.INTERNAL]
    summary = SalesSummary(
        count=len(exchange),
        gross=sum(s.gross_price or s.received for s in exchange),
        received=sum(s.received for s in exchange),
        internal_count=len(internal),
        internal_total=sum(s.received for s in internal),
        fund_cut=int(by_account.get("fund") or 0),
        distributed=int(by_account.get("member") or 0),
        mismatches=sum(
            1
            for s in exchange
            if s.expected_received is not None and s.received != s.expected_received
        ),
    )
    return summary, sales


def _attendance(session: Session, clan: Clan, period: Period) -> tuple[list[Bar], int]:
    start, end = period_bounds_utc(clan, period)
    rows = session.execute(
        select(Character.name, func.count(Attendance.id))
        .join(Attendance, Attendance.character_id == Character.id)
        .join(Kill, Kill.id == Attendance.kill_id)
        .where(Kill.clan_id == clan.id, Kill.killed_at >= start, Kill.killed_at < end)
        .group_by(Character.id, Character.name)
    ).all()
    kills = session.execute(
        select(func.count(Kill.id)).where(
            Kill.clan_id == clan.id, Kill.killed_at >= start, Kill.killed_at < end
        )
    ).scalar_one()
    bars = sorted(
        (Bar(name, int(n)) for name, n in rows), key=lambda b: (-b.value, sort_key(b.label))
    )
    return bars, int(kills)


def _sales_by_day(clan: Clan, period: Period, sales: list[Sale]) -> list[Bar]:
    totals: dict[date, int] = defaultdict(int)
    for sale in sales:
        totals[local_day(clan, sale.sold_at)] += sale.received
    days = (period.ends_on - period.starts_on).days + 1
    return [
        Bar(
            str((period.starts_on + timedelta(days=i)).day),
            totals[period.starts_on + timedelta(days=i)],
        )
        for i in range(days)
    ]


def _savings(session: Session, clan: Clan, period: Period) -> tuple[Savings | None, str | None]:
    """What netting saves this period: the close preview's figure (the same plan, fee rate
    and treasurer as the close), so the dashboard and the close page always agree."""
    if period.id is None:
        return None, None  # nothing posted yet
    try:
        return period_savings(session, clan, period), None
    except ServiceError as exc:
        return None, exc.message
    except DomainError as exc:
        return None, str(exc)


def dashboard(
    session: Session, actor_id: int, clan_id: int, now: datetime | None = None
) -> Dashboard:
    """Everything the clan home page shows, for the open month: the one containing ``now``
    (today), or the next one once today's month is closed (``closed_period`` links to it)."""
    clan = authz.get_clan(session, actor_id, clan_id)
    now = now or utcnow()
    today = period_containing(session, clan, local_day(clan, now))
    period = open_period_from(session, clan, local_day(clan, now))
    balances = {
        (kind, cid): int(total)
        for kind, cid, total in session.execute(
            select(Posting.account_kind, Posting.character_id, func.sum(Posting.amount))
            .where(Posting.clan_id == clan_id, Posting.period_id == period.id)
            .group_by(Posting.account_kind, Posting.character_id)
        )
    }
    members = {cid: v for (kind, cid), v in balances.items() if kind == AccountKind.MEMBER}
    summary, sales = _sales(session, clan_id, period)
    attendance, kills = _attendance(session, clan, period)
    savings, savings_error = _savings(session, clan, period)
    mine = list(
        session.execute(
            select(Character.id).where(Character.clan_id == clan_id, Character.user_id == actor_id)
        ).scalars()
    )
    return Dashboard(
        clan=clan,
        period=period,
        holdings=_holdings(session, clan_id, members),
        sales=summary,
        fund_balance=balances.get(("fund", None), 0),
        savings=savings,
        savings_error=savings_error,
        attendance=attendance,
        sales_by_day=_sales_by_day(clan, period, sales),
        my_balance=sum(members.get(cid, 0) for cid in mine),
        my_characters=mine,
        kills_count=kills,
        closed_period=today if today.status == PeriodStatus.CLOSED else None,
    )
