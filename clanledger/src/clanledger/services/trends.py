"""A clan's history at a glance: figures by month (in the clan's timezone) for one member and
for the whole clan (the year in review: :mod:`clanledger.services.year_review`).

Every figure comes from the ledger and the records, in whole diamonds: income is what sales
received (an internal purchase counts at its price), a member's earnings are the shares of
the sales' current entries (a corrected sale counts once, a voided one not at all), the
fund's balance is the running sum of its postings (carry-forwards left out), and the saving
is what each close stored (:func:`close_preview.period_savings`, the one definition of
:func:`domain.savings.netting_saving`). Rows are read with a fixed number of queries and
bucketed by local month in Python, so SQLite and PostgreSQL give the same months.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import Session

from clanledger.domain.ledger import AccountKind
from clanledger.domain.messages import N_
from clanledger.models import (
    Attendance,
    Boss,
    Character,
    Clan,
    Drop,
    EntryKind,
    JournalEntry,
    Kill,
    Period,
    PeriodStatus,
    Posting,
    Role,
    Sale,
    Transfer,
    TransferStatus,
)
from clanledger.models.types import utcnow
from clanledger.services import authz
from clanledger.services.close_preview import period_savings
from clanledger.services.drops import OPEN_STATUSES
from clanledger.services.errors import NotFound, PermissionDenied
from clanledger.services.periods import local_day
from clanledger.services.transfers import transfer_terms_paid

MONTHS_SHOWN = 12
OWN_PAGE_ONLY = N_("Members read their own history; officers read everyone's.")


@dataclass(frozen=True)
class MonthFigure:
    """One month (its first day) and the figures of that month."""

    month: date
    value: int
    count: int = 0


@dataclass(frozen=True)
class Ranked:
    """A boss, an item or a member, with a diamond total and how many times."""

    label: str
    value: int
    count: int


@dataclass(frozen=True)
class MemberMonth:
    month: date
    earned: int
    attended: int
    kills: int

    @property
    def rate_percent(self) -> int | None:
        """Attendance in whole per cent, rounded down; None in a month without kills."""
        return self.attended * 100 // self.kills if self.kills else None


@dataclass
class MemberHistory:
    character: Character
    months: list[MemberMonth]
    items_held: int
    items_sold: int
    sold_for: int
    transfers_paid: int
    paid_total: int
    transfers_received: int
    received_total: int

    @property
    def earned(self) -> int:
        return sum(m.earned for m in self.months)

    @property
    def attended(self) -> int:
        return sum(m.attended for m in self.months)

    @property
    def kills(self) -> int:
        return sum(m.kills for m in self.months)

    @property
    def rate_percent(self) -> int | None:
        return self.attended * 100 // self.kills if self.kills else None


@dataclass
class ClanHistory:
    clan: Clan
    income: list[MonthFigure]
    bosses: list[Ranked]
    items: list[Ranked]
    fund: list[MonthFigure]
    saved: int
    closes: int


def month_of(clan: Clan, when: datetime) -> date:
    """The first day of ``when``'s month in the clan's timezone."""
    return local_day(clan, when).replace(day=1)


def last_months(clan: Clan, now: datetime, count: int = MONTHS_SHOWN) -> list[date]:
    """The ``count`` months up to and including ``now``'s, oldest first."""
    current = month_of(clan, now)
    return [current - relativedelta(months=count - 1 - i) for i in range(count)]


def utc_bounds(clan: Clan, first: date, last: date) -> tuple[datetime, datetime]:
    """From the first instant of month ``first`` to the end of month ``last`` (exclusive)."""
    tz = ZoneInfo(clan.timezone)
    end = last + relativedelta(months=1)
    return datetime.combine(first, time(), tz), datetime.combine(end, time(), tz)


def sales_between(session: Session, clan: Clan, start: datetime, end: datetime) -> list:
    """Every current sale in ``[start, end)``: ``id``, ``sold_at``, ``received``, ``item``
    and ``boss`` (plain rows: a year of sales reads fast)."""
    return list(
        session.execute(
            select(
                Sale.id,
                Sale.sold_at,
                Sale.received,
                Drop.name.label("item"),
                Boss.name.label("boss"),
            )
            .join(Drop, Drop.id == Sale.drop_id)
            .join(Kill, Kill.id == Drop.kill_id)
            .join(Boss, Boss.id == Kill.boss_id)
            .where(Sale.clan_id == clan.id, Sale.sold_at >= start, Sale.sold_at < end)
            .order_by(Sale.sold_at, Sale.id)
        ).all()
    )


def by_month(clan: Clan, months: list[date], rows: list) -> list[MonthFigure]:
    totals: dict[date, int] = defaultdict(int)
    counts: Counter[date] = Counter()
    for sale in rows:
        totals[month_of(clan, sale.sold_at)] += int(sale.received)
        counts[month_of(clan, sale.sold_at)] += 1
    return [MonthFigure(m, totals[m], counts[m]) for m in months]


def ranked(rows: list, by: str) -> list[Ranked]:
    """Sales rows grouped by their ``by`` name ("item" or "boss"), most diamonds first."""
    totals: dict[str, int] = defaultdict(int)
    counts: Counter[str] = Counter()
    for row in rows:
        totals[getattr(row, by)] += int(row.received)
        counts[getattr(row, by)] += 1
    return sorted(
        (Ranked(name, totals[name], counts[name]) for name in totals),
        key=lambda r: (-r.value, r.label),
    )


def _fund_by_month(session: Session, clan: Clan, months: list[date]) -> list[MonthFigure]:
    """The fund's balance at the end of each of ``months``: a running sum of its postings
    from the clan's first month, the carry-forwards a close writes (and a reopen reverses)
    left out, so a month reads the same whether the month before it is closed yet or not."""
    carried = or_(
        JournalEntry.kind == EntryKind.OPENING,
        and_(JournalEntry.kind == EntryKind.REVERSAL, JournalEntry.source_type == "period"),
    )
    rows = session.execute(
        select(Period.starts_on, func.coalesce(func.sum(Posting.amount), 0))
        .join(Posting, Posting.period_id == Period.id)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(
            Period.clan_id == clan.id,
            Posting.account_kind == AccountKind.FUND,
            not_(carried),
        )
        .group_by(Period.id, Period.starts_on)
        .order_by(Period.starts_on)
    ).all()
    figures, running, index = [], 0, 0
    for month in months:
        while index < len(rows) and rows[index][0] <= month:
            running += int(rows[index][1])
            index += 1
        figures.append(MonthFigure(month, running))
    return figures


def closed_savings(session: Session, clan: Clan, year: int | None = None) -> tuple[int, int]:
    """``(diamonds saved, closes)`` over the closed months (of ``year``, when given), as each
    close stored them."""
    query = select(Period).where(Period.clan_id == clan.id, Period.status == PeriodStatus.CLOSED)
    if year is not None:
        query = query.where(
            Period.starts_on >= date(year, 1, 1), Period.starts_on < date(year + 1, 1, 1)
        )
    closed = session.execute(query).scalars().all()
    return sum(period_savings(session, clan, p).saved for p in closed), len(closed)


def _ranked_since_start(session: Session, clan: Clan, name: Any) -> list[Ranked]:
    """Every sale since the clan started, grouped by ``name`` (a boss's or an item's) in
    the database, most diamonds first."""
    rows = session.execute(
        select(name, func.sum(Sale.received), func.count(Sale.id))
        .join(Drop, Drop.id == Sale.drop_id)
        .join(Kill, Kill.id == Drop.kill_id)
        .join(Boss, Boss.id == Kill.boss_id)
        .where(Sale.clan_id == clan.id)
        .group_by(name)
    ).all()
    return sorted(
        (Ranked(label, int(total), int(count)) for label, total, count in rows),
        key=lambda r: (-r.value, r.label),
    )


def clan_history(
    session: Session, actor_id: int, clan_id: int, now: datetime | None = None
) -> ClanHistory:
    """The clan's income over the last twelve months, its bosses and items since it started
    (most diamonds first), the fund's balance at the end of each of those months and what
    netting saved since the first close."""
    clan = authz.get_clan(session, actor_id, clan_id)
    months = last_months(clan, now or utcnow())
    recent = sales_between(session, clan, *utc_bounds(clan, months[0], months[-1]))
    saved, closes = closed_savings(session, clan)
    return ClanHistory(
        clan=clan,
        income=by_month(clan, months, recent),
        bosses=_ranked_since_start(session, clan, Boss.name),
        items=_ranked_since_start(session, clan, Drop.name),
        fund=_fund_by_month(session, clan, months),
        saved=saved,
        closes=closes,
    )


def kills_between(session: Session, clan: Clan, start: datetime, end: datetime) -> list:
    """``(kill id, killed at)`` of every kill in ``[start, end)``."""
    return list(
        session.execute(
            select(Kill.id, Kill.killed_at).where(
                Kill.clan_id == clan.id, Kill.killed_at >= start, Kill.killed_at < end
            )
        ).all()
    )


def _readable_character(
    session: Session, actor_id: int, clan_id: int, character_id: int
) -> Character:
    """A character of the clan whose history the actor may read: their own, or any for an
    officer or the leader (the same rule as statements)."""
    membership = authz.active_membership(session, actor_id, clan_id)
    character = session.get(Character, character_id)
    if character is None or character.clan_id != clan_id:
        raise NotFound()
    if character.user_id != actor_id and membership.role.rank < Role.OFFICER.rank:
        raise PermissionDenied(OWN_PAGE_ONLY)
    return character


def _member_months(
    session: Session, clan: Clan, character: Character, months: list[date]
) -> list[MemberMonth]:
    """Shares earned and kills attended per month; a month's kills count from the day the
    character was added (or its first kill, if it was recorded for earlier kills)."""
    start, end = utc_bounds(clan, months[0], months[-1])
    shares = session.execute(
        select(Sale.sold_at, Posting.amount)
        .join(Posting, Posting.entry_id == Sale.entry_id)
        .where(
            Sale.clan_id == clan.id,
            Sale.sold_at >= start,
            Sale.sold_at < end,
            Posting.account_kind == AccountKind.MEMBER,
            Posting.character_id == character.id,
            Posting.amount > 0,
        )
    ).all()
    attended = dict(
        session.execute(
            select(Attendance.kill_id, Kill.killed_at)
            .join(Kill, Kill.id == Attendance.kill_id)
            .where(Attendance.clan_id == clan.id, Attendance.character_id == character.id)
        ).all()
    )
    since = min([character.created_at, *attended.values()])
    earned: dict[date, int] = defaultdict(int)
    for sold_at, amount in shares:
        earned[month_of(clan, sold_at)] += int(amount)
    kills: Counter[date] = Counter()
    present: Counter[date] = Counter()
    for kill_id, killed_at in kills_between(session, clan, max(start, since), end):
        kills[month_of(clan, killed_at)] += 1
        present[month_of(clan, killed_at)] += kill_id in attended
    return [MemberMonth(m, earned[m], present[m], kills[m]) for m in months]


def _transfers_of(session: Session, clan_id: int, character_id: int, side: str) -> tuple[int, int]:
    """``(count, diamonds)`` of the member's transfers paid (``side`` "payer": the price
    paid on the exchange) or received ("receiver": that price less the exchange's fee),
    planned ones left out."""
    column = getattr(Transfer, f"{side}_character_id")
    rows = session.execute(
        select(Transfer).where(
            Transfer.clan_id == clan_id,
            column == character_id,
            Transfer.status != TransferStatus.PLANNED,
        )
    ).scalars()
    total = count = 0
    for transfer in rows:
        gross, fee = transfer_terms_paid(transfer)
        total += gross if side == "payer" else gross - fee
        count += 1
    return count, total


def member_history(
    session: Session, actor_id: int, clan_id: int, character_id: int, now: datetime | None = None
) -> MemberHistory:
    """One member's last twelve months: shares earned and attendance per month, the items
    they hold and have sold, and the settlement transfers they paid and received."""
    clan = authz.get_clan(session, actor_id, clan_id)
    character = _readable_character(session, actor_id, clan_id, character_id)
    months = last_months(clan, now or utcnow())
    held = session.execute(
        select(func.count(Drop.id)).where(
            Drop.clan_id == clan_id,
            Drop.holder_character_id == character_id,
            Drop.status.in_(OPEN_STATUSES),
        )
    ).scalar_one()
    sold_count, sold_for = session.execute(
        select(func.count(Sale.id), func.coalesce(func.sum(Sale.received), 0))
        .join(Drop, Drop.id == Sale.drop_id)
        .where(Sale.clan_id == clan_id, Drop.holder_character_id == character_id)
    ).one()
    paid = _transfers_of(session, clan_id, character_id, "payer")
    received = _transfers_of(session, clan_id, character_id, "receiver")
    return MemberHistory(
        character=character,
        months=_member_months(session, clan, character, months),
        items_held=int(held),
        items_sold=int(sold_count),
        sold_for=int(sold_for),
        transfers_paid=paid[0],
        paid_total=paid[1],
        transfers_received=received[0],
        received_total=received[1],
    )
