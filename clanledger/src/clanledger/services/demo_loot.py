"""A believable month of loot for the demo clan: boss kills with weighted roll calls and
check-ins, drops in every state, sales with the occasional mismatch, internal purchases,
clan storage, a locked roll call corrected afterwards, a corrected and an undone sale, and
two internal auctions (one won yesterday, one still taking bids).

Everything goes through the real services (nothing is written behind their back), so the
demo ledger balances exactly like a real one. The data is deterministic for a given seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from clanledger.models import Character, DropStatus
from clanledger.models.types import utcnow
from clanledger.services import auctions, bosses, drops, kills, sales
from clanledger.services.errors import ServiceError
from clanledger.services.rates import rates_on

BOSSES = ["安塔瑞斯", "法利昂", "林德拜爾", "巴拉卡斯", "死亡騎士", "巴風特", "克特", "伊弗利特"]
ITEMS = [
    ("屠龍劍", "傳說"),
    ("安塔瑞斯之牙", "英雄"),
    ("法利昂的鱗片", "稀有"),
    ("林德拜爾之翼", "英雄"),
    ("巴拉卡斯之心", "傳說"),
    ("黑暗精靈弓", "稀有"),
    ("精靈之盾", "高級"),
    ("古代神之鎧甲", "英雄"),
    ("力量手套", "稀有"),
    ("敏捷斗篷", "高級"),
    ("高級技能書", "稀有"),
    ("祝福的武器強化卷軸", "高級"),
]
PRICES = {"傳說": (8000, 20000), "英雄": (2500, 8000), "稀有": (600, 2500), "高級": (150, 600)}


@dataclass
class LootSummary:
    """What was seeded, for the CLI to print."""

    kills: int = 0
    drops: int = 0
    sales: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def _kill_times(rng: random.Random, now: datetime, count: int) -> list[datetime]:
    """``count`` evening raid times over the 28 days before ``now`` (20:00-23:30 Taipei)."""
    times = []
    for _ in range(count):
        day = now - timedelta(days=rng.randint(1, 28))
        minutes = rng.randint(0, 210)  # 12:00 UTC is 20:00 in Taipei
        times.append(
            day.replace(hour=12, minute=0, second=0, microsecond=0) + timedelta(minutes=minutes)
        )
    return sorted(times)


def _roll_call(
    rng: random.Random, roster: list[Character], regulars: list[Character]
) -> dict[int, str]:
    """15-25 participants, regulars more often; a few half shares for late arrivals."""
    size = min(len(roster), rng.randint(15, 25))
    chosen = set(rng.sample(regulars, min(len(regulars), size * 2 // 3)))
    chosen |= set(rng.sample(roster, size - len(chosen)) if size > len(chosen) else [])
    return {c.id: ("1/2" if rng.random() < 0.12 else "1") for c in chosen}


def seed_loot(
    session: Session, leader_id: int, clan_id: int, seed: int = 7, now: datetime | None = None
) -> LootSummary:
    """Seed ~40 kills and ~100 drops in every state into an existing clan.

    The clan needs its members and characters (most with a player) and its rates; the
    leader records what officers record, members check in and sell their own items.
    """
    rng = random.Random(seed)
    now = now or utcnow()
    roster = list(
        session.execute(
            select(Character)
            .where(Character.clan_id == clan_id, Character.active.is_(True))
            .order_by(Character.id)
        ).scalars()
    )
    if len(roster) < 15:
        raise ServiceError("the demo loot needs a clan with at least 15 characters")
    regulars = roster[: len(roster) * 2 // 3]
    boss_ids = [bosses.add_boss(session, leader_id, clan_id, name).id for name in BOSSES]
    summary = LootSummary()
    for killed_at in _kill_times(rng, now, 40):
        kill = _one_kill(session, rng, leader_id, clan_id, boss_ids, roster, regulars, killed_at)
        summary.kills += 1
        participants = [a.character_id for a in kill.attendance]
        for _ in range(rng.choice([1, 2, 3, 3, 4])):
            name, grade = rng.choice(ITEMS)
            holder = rng.choice(participants)
            drop = drops.record_drop(
                session,
                leader_id,
                clan_id,
                kill_id=kill.id,
                name=name,
                grade=grade,
                holder_character_id=holder,
                now=killed_at + timedelta(minutes=2),
            )
            summary.drops += 1
            _lifecycle(session, rng, leader_id, clan_id, drop.id, grade, roster, killed_at, now)
    _corrections(session, rng, leader_id, clan_id, now)
    _auctions(session, rng, leader_id, clan_id, roster, now)
    for status in DropStatus:
        summary.by_status[status.value] = len(
            drops.list_drops(session, leader_id, clan_id, (status,), limit=10_000)
        )
    summary.sales = summary.by_status["sold"] + summary.by_status["bought"]
    return summary


def _one_kill(session, rng, leader_id, clan_id, boss_ids, roster, regulars, killed_at):
    weights = _roll_call(rng, roster, regulars)
    caller = rng.choice(list(weights)) if rng.random() < 0.5 else None
    late = [c for c in roster if c.id not in weights and c.user_id is not None][:3]
    kill = kills.record_kill(
        session,
        leader_id,
        clan_id,
        boss_id=rng.choice(boss_ids),
        killed_at=killed_at,
        participants=weights,
        caller_character_id=caller,
        now=killed_at + timedelta(minutes=1),
    )
    for character in late[: rng.randint(0, 3)]:  # members checking in with the code
        kills.check_in(
            session,
            character.user_id,
            clan_id,
            kill.checkin_code,
            character.id,
            now=killed_at + timedelta(minutes=rng.randint(2, 25)),
        )
    session.refresh(kill)
    return kill


def _lifecycle(session, rng, leader_id, clan_id, drop_id, grade, roster, killed_at, now):
    """Move one item to a random state, the way a month of real use does."""
    low, high = PRICES[grade]
    price = rng.randrange(low, high, 10)
    listed_at = min(now, killed_at + timedelta(hours=rng.randint(1, 20)))
    roll = rng.random()
    if roll < 0.12:
        return  # still held
    if roll < 0.2:
        drops.store_drop(session, leader_id, clan_id, drop_id)
        return
    if roll < 0.3:
        buyer = rng.choice(roster).id
        sales.record_internal_purchase(
            session,
            leader_id,
            clan_id,
            drop_id,
            buyer_character_id=buyer,
            price=price * 9 // 10,
            now=listed_at,
        )
        return
    drops.list_drop(session, leader_id, clan_id, drop_id, price, now=listed_at)
    if roll < 0.42:
        return  # listed, waiting for a buyer
    if roll < 0.52:
        drops.mark_unsold(session, leader_id, clan_id, drop_id)
        if rng.random() < 0.6:
            return  # unsold, back with the holder
        price = price * 85 // 100
        drops.list_drop(session, leader_id, clan_id, drop_id, price, now=listed_at)
    sold_at = min(now - timedelta(minutes=5), listed_at + timedelta(hours=rng.randint(1, 48)))
    rates = rates_on(session, clan_id, sold_at.date())
    received = sales.expected_received(price, rates)
    if rng.random() < 0.06:
        received -= rng.randint(1, 5)  # typed in wrong: flagged as a mismatch
    sales.record_sale(
        session,
        leader_id,
        clan_id,
        drop_id,
        received=received,
        gross_price=price,
        sold_at=sold_at,
        now=now,
    )


def _corrections(session, rng, leader_id, clan_id, now):
    """A late roll-call fix, a corrected amount and an undone sale, each with a reason."""
    sold = drops.list_drops(session, leader_id, clan_id, (DropStatus.SOLD,), limit=10_000)
    if len(sold) < 3:
        return
    first, second, third = sold[0], sold[len(sold) // 2], sold[-1]
    sales.correct_sale(
        session,
        leader_id,
        clan_id,
        first.id,
        received=first.sale.received - 10,
        reason="收到的鑽石打錯了 (typo in the amount)",
        now=now,
    )
    sales.void_sale(
        session,
        leader_id,
        clan_id,
        third.id,
        reason="登記錯物品 (recorded on the wrong item)",
        now=now,
    )
    kill = kills.get_kill(session, leader_id, clan_id, second.kill_id)
    weights = {a.character_id: str(a.weight) for a in kill.attendance}
    late = next(iter(weights))
    weights[late] = "1/2"
    kills.set_roll_call(
        session,
        leader_id,
        clan_id,
        kill.id,
        weights,
        kill.caller_character_id,
        reason="遲到,改半份 (arrived late: half share)",
        now=now,
    )


def _auctions(session, rng, leader_id, clan_id, roster, now):
    """Two held items go to an internal auction: one won yesterday, one taking bids."""
    held = drops.list_drops(session, leader_id, clan_id, (DropStatus.HELD,), limit=10_000)
    players = [c for c in roster if c.user_id is not None]
    if len(held) < 3 or len(players) < 2:
        return
    opened = now - timedelta(days=2)
    for drop, ends_at in ((held[0], now - timedelta(days=1)), (held[1], now + timedelta(days=1))):
        low, _high = PRICES[drop.grade]
        auction = auctions.open_auction(
            session,
            leader_id,
            clan_id,
            drop.id,
            start_price=low,
            increment=max(low // 20, 10),
            ends_at=ends_at,
            now=opened,
        )
        bidders = rng.sample(players, 2)
        price = low
        for step, bidder in enumerate(bidders + bidders[:1]):
            auctions.place_bid(
                session,
                bidder.user_id,
                clan_id,
                auction.id,
                character_id=bidder.id,
                amount=price,
                now=opened + timedelta(hours=step + 1),
            )
            price += auction.increment * rng.randint(1, 3)
    auctions.settle_due(session, now=now, clan_id=clan_id)


def seed_demo_loot(session: Session, clan_id: int, leader_id: int, rng: random.Random) -> str:
    """The hook ``services.demo.seed_demo`` calls: seed the month and say what was made."""
    summary = seed_loot(session, leader_id, clan_id, seed=rng.randrange(1 << 30))
    states = ", ".join(f"{count} {status}" for status, count in summary.by_status.items())
    return (
        f"Loot: {summary.kills} kills, {summary.drops} items ({states}), "
        f"{summary.sales} sold or bought."
    )
