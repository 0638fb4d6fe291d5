"""The first-run checklist of a new clan: what officers still have to set up, from the data.

- fee rate, fund cut: the clan has an exchange-fee rate, a fund-cut rate on record;
- roster: the clan has at least :data:`ROSTER_DONE_AT` active characters (the leader's own
  main alone is not a roster);
- bosses: the clan has an active boss on its list;
- invite link: someone other than the leader has joined or asked to join.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clanledger.models import Boss, Character, ClanRate, Membership, RateKind, Role
from clanledger.services import authz

ROSTER_DONE_AT = 2
CHECKLIST_ITEMS = ("fee_rate", "fund_cut", "roster", "bosses", "invite")


@dataclass(frozen=True)
class ChecklistItem:
    key: str  # one of CHECKLIST_ITEMS
    done: bool


@dataclass(frozen=True)
class Checklist:
    items: list[ChecklistItem]

    @property
    def done(self) -> bool:
        return all(item.done for item in self.items)

    @property
    def done_count(self) -> int:
        return sum(item.done for item in self.items)


def _count(session: Session, query) -> int:
    return session.execute(query).scalar_one()


def setup_checklist(session: Session, actor_id: int, clan_id: int) -> Checklist:
    """The checklist's items and whether each is done (officer)."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    kinds = set(session.execute(select(ClanRate.kind).where(ClanRate.clan_id == clan_id)).scalars())
    characters = _count(
        session,
        select(func.count(Character.id)).where(
            Character.clan_id == clan_id, Character.active.is_(True)
        ),
    )
    bosses = _count(
        session,
        select(func.count(Boss.id)).where(Boss.clan_id == clan_id, Boss.active.is_(True)),
    )
    others = _count(
        session,
        select(func.count(Membership.id)).where(
            Membership.clan_id == clan_id, Membership.role != Role.LEADER
        ),
    )
    done = {
        "fee_rate": RateKind.EXCHANGE_FEE in kinds,
        "fund_cut": RateKind.FUND_CUT in kinds,
        "roster": characters >= ROSTER_DONE_AT,
        "bosses": bosses > 0,
        "invite": others > 0,
    }
    return Checklist([ChecklistItem(key, done[key]) for key in CHECKLIST_ITEMS])
