"""The clan's editable list of boss names. Renaming or taking a boss off the list never
changes past kills; a boss no longer on the list cannot be picked for a new kill."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from clanledger.domain.collation import by_name
from clanledger.domain.messages import N_
from clanledger.domain.names import InvalidName, clean_name
from clanledger.models import Boss, Role
from clanledger.services import audit, authz
from clanledger.services.errors import NotFound, ValidationError, commit_or_conflict

BOSS_TAKEN = N_("This boss is already on the list.")


def list_bosses(
    session: Session, actor_id: int, clan_id: int, include_inactive: bool = False
) -> list[Boss]:
    """The clan's bosses by name in the reader's order (inactive ones only when asked)."""
    authz.active_membership(session, actor_id, clan_id)
    query = select(Boss).where(Boss.clan_id == clan_id)
    if not include_inactive:
        query = query.where(Boss.active.is_(True))
    return by_name(session.execute(query).scalars(), lambda boss: boss.name)


def _boss_name(name: str) -> str:
    try:
        return clean_name(name)
    except InvalidName as exc:
        raise ValidationError(
            N_("A boss name is 1 to 64 characters, without invisible characters."), field="name"
        ) from exc


def add_boss(session: Session, actor_id: int, clan_id: int, name: str) -> Boss:
    """Add a boss name to the clan's list (officer)."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    name = _boss_name(name)
    audit.set_actor(session, actor_id)
    boss = Boss(clan_id=clan_id, name=name, active=True)
    session.add(boss)
    commit_or_conflict(session, BOSS_TAKEN)
    return boss


def update_boss(
    session: Session, actor_id: int, clan_id: int, boss_id: int, name: str, active: bool
) -> Boss:
    """Rename a boss or take it off the list (officer). Past kills keep their boss."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    boss = boss_of(session, clan_id, boss_id)
    name = _boss_name(name)
    audit.set_actor(session, actor_id)
    boss.name, boss.active = name, active
    commit_or_conflict(session, BOSS_TAKEN)
    return boss


def get_boss(session: Session, actor_id: int, clan_id: int, boss_id: int) -> Boss:
    """One boss of the clan (404 for another clan's)."""
    authz.active_membership(session, actor_id, clan_id)
    return boss_of(session, clan_id, boss_id)


def boss_of(session: Session, clan_id: int, boss_id: int) -> Boss:
    """A boss of the clan, or :class:`NotFound`."""
    boss = session.get(Boss, boss_id)
    if boss is None or boss.clan_id != clan_id:
        raise NotFound()
    return boss
