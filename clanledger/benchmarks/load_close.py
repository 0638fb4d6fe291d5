"""The month-end close in the multi-clan load test (``bench_load.py``).

Every clan starts the run with a previous month that has ended: a few kills with their
drops sold, recorded through the services and dated in that month, so its balances need
transfers. During the run the clan's leader closes it through the web close page (see
``locustfile_clans.py``), then submits the same form once more, which must be refused as
already closed; the run's own loot goes into the current month. After the run
:func:`check_closes` compares each clan's previous month with what the leader was told.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clanledger.models import (
    Character,
    Clan,
    EntryKind,
    JournalEntry,
    Period,
    PeriodStatus,
    Transfer,
)
from clanledger.services import close, kills, sales
from clanledger.services.drops import list_drop, record_drop
from clanledger.services.periods import period_for_day

# The close's two POSTs as Locust names them (its statistics and the counts).
CLOSE = "close month"
CLOSE_AGAIN = "close month again"
# (day of the month, hour in the clan's timezone) of the previous month's kills; one item
# dropped at each and sold two hours later.
KILLS_LAST_MONTH = ((3, 21), (12, 20), (24, 22))
# Characters in the previous month's roll calls: few enough that the close's planner proves
# its plan the fewest, so the plan shown under load is the one computed at set-up.
ROLL_CALL = 6


def previous_month(timezone: str, now: datetime | None = None) -> date:
    """First day of the month before the current one in ``timezone``."""
    today = (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()
    return today.replace(day=1) - relativedelta(months=1)


@dataclass(frozen=True)
class Seat:
    """Who records the previous month's loot: the leader, the boss, the characters."""

    leader_id: int
    boss_id: int
    characters: list[Character]


def seed_previous_month(session: Session, clan_index: int, clan: Clan, seat: Seat) -> dict:
    """Record the previous month's kills, drops and sales (committed by the services) and
    plan its close; the clan's ``previous_month`` entry of the Locust plan."""
    start = previous_month(clan.timezone or "Asia/Taipei")
    zone = ZoneInfo(clan.timezone or "Asia/Taipei")
    group = seat.characters[:ROLL_CALL]
    for k, (day, hour) in enumerate(KILLS_LAST_MONTH):
        when = datetime.combine(start.replace(day=day), time(hour), zone).astimezone(UTC)
        holder = group[(k + 1) % len(group)]
        # Everyone but one character (a different one each kill); the holder at half share.
        roll = [ch for i, ch in enumerate(group) if len(group) < 3 or i != k]
        weights = {ch.id: "1/2" if ch.id == holder.id else "1" for ch in roll}
        gross = 1000 + 200 * k + 20 * (clan_index % 10)
        _sell_at_kill(session, clan.id, seat, when, weights, holder.id, gross)
    period = period_for_day(session, clan, start)
    session.commit()
    preview = close.preview_close(session, seat.leader_id, clan.id, period.id)
    if preview.problems:
        raise RuntimeError(f"the previous month of clan {clan.id} cannot close: {preview.problems}")
    return {
        "period_id": period.id,
        "loot": len(KILLS_LAST_MONTH),
        "transfers": [
            [t.payer_id, t.receiver_id, t.net, t.gross, t.fee] for t in preview.transfers
        ],
    }


def _sell_at_kill(
    session: Session,
    clan_id: int,
    seat: Seat,
    when: datetime,
    weights: dict[int, str],
    holder_id: int,
    gross: int,
) -> None:
    """A kill at ``when``, one item dropped and listed at ``gross``, sold two hours later
    for ``gross`` less the 5 % exchange fee."""
    leader = seat.leader_id
    kill = kills.record_kill(
        session,
        leader,
        clan_id,
        boss_id=seat.boss_id,
        killed_at=when,
        participants=weights,
        now=when,
    )
    drop = record_drop(
        session,
        leader,
        clan_id,
        kill_id=kill.id,
        name="巴風特之杖",
        holder_character_id=holder_id,
        now=when,
    )
    list_drop(session, leader, clan_id, drop.id, asking_price=gross, now=when)
    sold = when + timedelta(hours=2)
    sales.record_sale(
        session, leader, clan_id, drop.id, received=gross * 95 // 100, sold_at=sold, now=sold
    )


def check_closes(session: Session, plan: dict, counts: dict[str, int]) -> list[str]:
    """What does not add up in the previous months: a month closed other than once when its
    close POST succeeded (either is fine when it went unanswered), a close or second
    attempt answered otherwise than expected, or transfers that differ from the plan."""
    problems = []
    for clan in plan["clans"]:
        month = clan.get("previous_month")
        if month:
            problems += _check_clan(session, clan["id"], month, counts)
    return problems


def _check_clan(session: Session, clan_id: int, month: dict, counts: dict[str, int]) -> list[str]:
    def count(name: str, outcome: str) -> int:
        return counts.get(f"{clan_id}:{name}:{outcome}", 0)

    period = session.get(Period, month["period_id"])
    closes = period.close_count if period.status == PeriodStatus.CLOSED else 0
    label = f"clan {clan_id}: the previous month"
    problems = []
    if count(CLOSE, "ok") and closes != 1:
        problems.append(f"{label} is closed {closes} times after its close succeeded")
    elif not count(CLOSE, "ok") and closes not in ((0, 1) if count(CLOSE, "unknown") else (0,)):
        problems.append(f"{label} is closed {closes} times, but no close POST succeeded")
    if count(CLOSE, "failed"):
        problems.append(f"{label}: its close was refused {count(CLOSE, 'failed')} times")
    if count(CLOSE_AGAIN, "failed"):
        problems.append(f"{label}: a second close was not refused as already closed")
    stored = _stored_transfers(session, period)
    expected = sorted(tuple(t) for t in month["transfers"]) if closes else []
    if stored != expected:
        problems.append(f"{label} has {len(stored)} transfers; the plan had {len(expected)}")
    openings = _openings(session, period)
    if openings != closes:
        problems.append(f"{label} opened the next month {openings} times for {closes} closes")
    return problems


def _stored_transfers(session: Session, period: Period) -> list[tuple[int, ...]]:
    rows = session.execute(
        select(
            Transfer.payer_character_id,
            Transfer.receiver_character_id,
            Transfer.net,
            Transfer.gross,
            Transfer.fee,
        ).where(Transfer.period_id == period.id)
    ).all()
    return sorted(tuple(row) for row in rows)


def _openings(session: Session, period: Period) -> int:
    """Opening entries carrying ``period``'s balances into the next month."""
    return session.execute(
        select(func.count())
        .select_from(JournalEntry)
        .where(
            JournalEntry.kind == EntryKind.OPENING,
            JournalEntry.source_type == "period",
            JournalEntry.source_id == period.id,
        )
    ).scalar_one()


def close_summary(plan: dict, counts: dict[str, int]) -> str:
    """One line: how many clans closed their previous month and refused the second try."""
    outcomes: Counter[str] = Counter()
    for key, n in counts.items():
        if ":" + CLOSE in key:
            outcomes[key.split(":", 1)[1]] += n
    clans = sum(1 for clan in plan["clans"] if clan.get("previous_month"))
    transfers = sum(
        len(clan["previous_month"]["transfers"])
        for clan in plan["clans"]
        if clan.get("previous_month")
    )
    return (
        f"month-end close: {outcomes[f'{CLOSE}:ok']} of {clans} clans closed their previous "
        f"month ({transfers} transfers planned in all), {outcomes[f'{CLOSE}:unknown']} left "
        f"unanswered; {outcomes[f'{CLOSE_AGAIN}:refused']} second attempts refused as "
        "already closed"
    )
