"""Every character's balance in a period at a glance (officers), with the clan fund's."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clanledger.domain.collation import sort_key
from clanledger.domain.ledger import AccountKind
from clanledger.models import Character, Period, Posting, Role, User
from clanledger.services import authz
from clanledger.services.periods import period_choice


@dataclass(frozen=True)
class BalanceRow:
    character: Character
    balance: int
    owner_name: str | None


@dataclass
class BalancesOverview:
    period: Period
    periods: list[Period]
    rows: list[BalanceRow]
    fund: int


def balances_overview(
    session: Session, actor_id: int, clan_id: int, period_id: int | None = None
) -> BalancesOverview:
    """Every character's balance in the period, largest debt first (officers)."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    clan = authz.get_clan(session, actor_id, clan_id)
    period, periods = period_choice(session, clan, period_id)
    totals = dict(
        session.execute(
            select(Posting.character_id, func.sum(Posting.amount))
            .where(Posting.clan_id == clan_id, Posting.period_id == period.id)
            .where(Posting.account_kind == AccountKind.MEMBER)
            .group_by(Posting.character_id)
        ).all()
    )
    fund = session.execute(
        select(func.coalesce(func.sum(Posting.amount), 0)).where(
            Posting.clan_id == clan_id,
            Posting.period_id == period.id,
            Posting.account_kind == AccountKind.FUND,
        )
    ).scalar_one()
    rows = [
        BalanceRow(character, int(totals.get(character.id) or 0), owner)
        for character, owner in session.execute(
            select(Character, User.display_name)
            .outerjoin(User, User.id == Character.user_id)
            .where(Character.clan_id == clan_id)
        ).all()
        if character.active or totals.get(character.id)
    ]
    rows.sort(key=lambda r: (r.balance, sort_key(r.character.name)))
    return BalancesOverview(period, periods, rows, int(fund))
