"""The first-run checklist of a new clan: what officers still have to set up, from the data.

- fee rate, fund cut: the clan has an exchange-fee rate, a fund-cut rate on record;
- roster: the clan has at least :data:`ROSTER_DONE_AT` active characters (the leader's own
  main alone is not a roster);
- bosses: the clan has an active boss on its list;
- invite link: someone other than the leader has joined or asked to join.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from clanledger.models import (
    Boss,
    Character,
    ClanRate,
    Membership,
    MembershipStatus,
    RateKind,
    Role,
)
from clanledger.services import authz
from clanledger.services.errors import NotFound, PermissionDenied

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


def _counted(query) -> object:
    return query.scalar_subquery()


def setup_checklist(session: Session, actor_id: int, clan_id: int) -> Checklist:
    """The checklist's items and whether each is done (officer).

    One query, the actor's role with the rest: the dashboard shows it on every visit.
    """
    exchange_fee, fund_cut = (
        exists().where(ClanRate.clan_id == clan_id, ClanRate.kind == kind)
        for kind in (RateKind.EXCHANGE_FEE, RateKind.FUND_CUT)
    )
    row = session.execute(
        select(
            _counted(
                select(Membership.role).where(
                    Membership.clan_id == clan_id,
                    Membership.user_id == actor_id,
                    Membership.status == MembershipStatus.ACTIVE,
                )
            ).label("role"),
            exchange_fee.label("fee_rate"),
            fund_cut.label("fund_cut"),
            _counted(
                select(func.count(Character.id)).where(
                    Character.clan_id == clan_id, Character.active.is_(True)
                )
            ).label("characters"),
            exists().where(Boss.clan_id == clan_id, Boss.active.is_(True)).label("bosses"),
            exists()
            .where(Membership.clan_id == clan_id, Membership.role != Role.LEADER)
            .label("invite"),
        )
    ).one()
    if row.role is None:
        raise NotFound()
    if Role(row.role).rank < Role.OFFICER.rank:
        raise PermissionDenied(authz.ROLE_TOO_LOW)
    done = {
        "fee_rate": bool(row.fee_rate),
        "fund_cut": bool(row.fund_cut),
        "roster": row.characters >= ROSTER_DONE_AT,
        "bosses": bool(row.bosses),
        "invite": bool(row.invite),
    }
    return Checklist([ChecklistItem(key, done[key]) for key in CHECKLIST_ITEMS])
