"""Clan scoping and roles, enforced here in the services, not only hidden in templates."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from clanledger.domain.messages import N_
from clanledger.models import (
    Clan,
    Membership,
    MembershipStatus,
    Role,
)
from clanledger.services.errors import NotFound, PermissionDenied

ROLE_TOO_LOW = N_("Your role in this clan does not allow this. Ask an officer or the leader.")


def active_membership(session: Session, user_id: int | None, clan_id: int) -> Membership:
    """The user's active membership of the clan, or :class:`NotFound` (never 403: a clan
    the user is not in must look exactly like a clan that does not exist)."""
    if user_id is None:
        raise NotFound()
    membership = session.execute(
        select(Membership).where(
            Membership.clan_id == clan_id,
            Membership.user_id == user_id,
            Membership.status == MembershipStatus.ACTIVE,
        )
    ).scalar_one_or_none()
    if membership is None:
        raise NotFound()
    return membership


def require_role(session: Session, user_id: int | None, clan_id: int, minimum: Role) -> Membership:
    """Membership with at least ``minimum`` role; :class:`PermissionDenied` if lower."""
    membership = active_membership(session, user_id, clan_id)
    if membership.role.rank < minimum.rank:
        raise PermissionDenied(ROLE_TOO_LOW)
    return membership


def get_clan(session: Session, user_id: int | None, clan_id: int) -> Clan:
    """The clan, if the user is an active member of it."""
    active_membership(session, user_id, clan_id)
    clan = session.get(Clan, clan_id)
    if clan is None:
        raise NotFound()
    return clan
