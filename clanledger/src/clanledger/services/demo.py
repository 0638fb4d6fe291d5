"""The demo clan shown by ``make serve``: ~30 members with mains, alts (each sharing one
wallet with its main) and roster characters, officers, a pending join request and a rate
history.

Loot for the demo month (kills, drops in every state, sales) is added by
``clanledger.services.demo_loot.seed_demo_loot(session, clan_id, leader_id, rng)`` when that
module exists; it must be idempotent per clan like this one.
"""

from __future__ import annotations

import importlib
import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clanledger.models import (
    Character,
    Clan,
    ClanRate,
    Membership,
    MembershipStatus,
    RateKind,
    Role,
    User,
)
from clanledger.models.types import utcnow
from clanledger.services import audit
from clanledger.services.accounts import hash_password
from clanledger.services.clans import clan_today

DEMO_INVITE_CODE = "DEMO2026"
DEMO_LEADER = "demo"
DEMO_PASSWORD = "demo-password"
DEMO_CLAN = "星辰血盟"
DEMO_SERVER = "肯特01"

# Mains in the style of Taiwanese Lineage W servers; alts get a suffix.
NAMES = [
    "夜風", "星辰", "狂刀", "月影", "雷神", "冰心", "烈焰", "小白", "阿明", "小華",
    "黑羽", "天行", "浪人", "青龍", "白虎", "朱雀", "玄武", "飛雪", "孤狼", "醉仙",
    "聖光", "暗影", "破軍", "無名", "流星", "海嘯", "山嵐", "火狐", "銀狼", "鐵衛",
]  # fmt: skip
CLASSES = ["騎士", "妖精", "法師", "黑暗妖精", "王族", "槍騎士", "狂戰士", "鬥士"]


@dataclass(frozen=True)
class DemoResult:
    created: bool
    clan_id: int
    username: str
    password: str
    members: int
    characters: int
    loot_summary: str = ""


def find_demo_clan(session: Session) -> Clan | None:
    return session.execute(
        select(Clan).where(Clan.invite_code == DEMO_INVITE_CODE)
    ).scalar_one_or_none()


def database_is_empty(session: Session) -> bool:
    """No user at all yet: the first run of a fresh install."""
    return session.execute(select(func.count()).select_from(User)).scalar_one() == 0


def seed_demo(session: Session, members: int = 30, seed: int = 2026) -> DemoResult:
    """Create the demo clan, or report the existing one (idempotent)."""
    existing = find_demo_clan(session)
    if existing is not None:
        return _result(session, existing, created=False)
    rng = random.Random(seed)
    password_hash = hash_password(DEMO_PASSWORD)  # one hash for every demo account
    users = [
        User(username=DEMO_LEADER, display_name="盟主" + NAMES[0], password_hash=password_hash)
    ]
    for n in range(1, members):
        users.append(
            User(
                username=f"member{n:02d}",
                display_name=NAMES[n % len(NAMES)],
                password_hash=password_hash,
            )
        )
    session.add_all(users)
    session.flush()
    audit.set_actor(session, users[0].id)
    clan = Clan(
        name=DEMO_CLAN,
        server=DEMO_SERVER,
        invite_code=DEMO_INVITE_CODE,
        carry_threshold=200,
        caller_bonus="1/2",
    )
    session.add(clan)
    session.flush()
    _add_rates(session, clan)
    _add_members(session, clan, users, rng)
    session.commit()
    loot = _seed_loot(session, clan, users[0], rng)
    return _result(session, clan, created=True, loot_summary=loot)


def _add_rates(session: Session, clan: Clan) -> None:
    """Last month 6 % fee, 10 % fund cut; this month the exchange fee dropped to 5 %."""
    month_start = clan_today(clan).replace(day=1)
    last_month = (month_start - timedelta(days=1)).replace(day=1)
    session.add_all(
        [
            ClanRate(
                clan_id=clan.id, kind=RateKind.EXCHANGE_FEE, bps=600, effective_from=last_month
            ),
            ClanRate(clan_id=clan.id, kind=RateKind.FUND_CUT, bps=1000, effective_from=last_month),
            ClanRate(
                clan_id=clan.id, kind=RateKind.EXCHANGE_FEE, bps=500, effective_from=month_start
            ),
        ]
    )


def _add_members(session: Session, clan: Clan, users: list[User], rng: random.Random) -> None:
    joined = utcnow() - timedelta(days=60)
    for index, user in enumerate(users):
        role = Role.LEADER if index == 0 else Role.OFFICER if index in (1, 2) else Role.MEMBER
        status = MembershipStatus.PENDING if index == len(users) - 1 else MembershipStatus.ACTIVE
        session.add(
            Membership(
                clan_id=clan.id,
                user_id=user.id,
                role=role,
                status=status,
                joined_at=joined + timedelta(hours=index * 7),
            )
        )
        if status != MembershipStatus.ACTIVE:
            continue
        main = NAMES[index % len(NAMES)]
        main_character = Character(
            clan_id=clan.id, user_id=user.id, name=main, char_class=rng.choice(CLASSES)
        )
        session.add(main_character)
        if rng.random() < 0.4:  # alts are common, on the same game account: one wallet
            alt = Character(
                clan_id=clan.id, user_id=user.id, name=main + "二號", char_class=rng.choice(CLASSES)
            )
            session.add(alt)
            session.flush()
            alt.wallet_character_id = main_character.id
    for name in ("路人甲", "無帳號的阿傑"):  # roster characters waiting to be claimed
        session.add(
            Character(clan_id=clan.id, user_id=None, name=name, char_class=rng.choice(CLASSES))
        )


def _seed_loot(session: Session, clan: Clan, leader: User, rng: random.Random) -> str:
    try:
        module = importlib.import_module("clanledger.services.demo_loot")
    except ModuleNotFoundError:
        return ""
    hook = getattr(module, "seed_demo_loot", None)
    if hook is None:
        return ""
    return str(hook(session, clan.id, leader.id, rng) or "")


def _result(session: Session, clan: Clan, created: bool, loot_summary: str = "") -> DemoResult:
    members = session.execute(
        select(func.count())
        .select_from(Membership)
        .where(Membership.clan_id == clan.id, Membership.status == MembershipStatus.ACTIVE)
    ).scalar_one()
    characters = session.execute(
        select(func.count()).select_from(Character).where(Character.clan_id == clan.id)
    ).scalar_one()
    return DemoResult(
        created, clan.id, DEMO_LEADER, DEMO_PASSWORD, members, characters, loot_summary
    )
