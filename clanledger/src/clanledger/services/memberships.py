"""Joining a clan and the roles in it.

A user asks to join with the clan's invite code (or link); the leader or an officer approves
or rejects the request. The leader promotes and demotes, and hands leadership over. Officers
remove members, the leader also removes officers; a removed membership keeps its history
(status ``removed``) and its characters are set inactive, their postings untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clanledger.domain.collation import sort_key
from clanledger.domain.ledger import AccountKind
from clanledger.domain.messages import N_
from clanledger.models import (
    Character,
    Clan,
    Membership,
    MembershipStatus,
    Period,
    PeriodStatus,
    Posting,
    Role,
    Transfer,
    TransferStatus,
    User,
)
from clanledger.models.types import utcnow
from clanledger.services import audit, authz
from clanledger.services.clans import new_invite_code, normalise_invite_code
from clanledger.services.errors import Conflict, NotFound, PermissionDenied, ValidationError

MEMBER_STATES = tuple(MembershipStatus)


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    user: User
    characters: list[Character]


def clan_for_invite(session: Session, code: str) -> Clan:
    """The clan an invite code belongs to.

    Raises:
        NotFound: no clan has this code (it may have been replaced).
    """
    clan = session.execute(
        select(Clan).where(Clan.invite_code == normalise_invite_code(code))
    ).scalar_one_or_none()
    if clan is None:
        raise NotFound(N_("This invite code is not valid. Ask an officer for the current one."))
    return clan


def request_join(session: Session, user_id: int, code: str) -> Membership:
    """Ask to join the clan with invite ``code``; the membership waits as ``pending``.

    A rejected or removed user may ask again.

    Raises:
        NotFound: unknown code.
        Conflict: the user is already a member or already waiting.
    """
    clan = clan_for_invite(session, code)
    audit.set_actor(session, user_id)
    existing = session.execute(
        select(Membership)
        .where(Membership.clan_id == clan.id, Membership.user_id == user_id)
        .with_for_update()
    ).scalar_one_or_none()
    if existing is not None and existing.status == MembershipStatus.ACTIVE:
        raise Conflict(N_("You are already a member of this clan."))
    if existing is not None and existing.status == MembershipStatus.PENDING:
        raise Conflict(N_("Your request is already waiting for an officer."))
    if existing is None:
        existing = Membership(
            clan_id=clan.id, user_id=user_id, role=Role.MEMBER, status=MembershipStatus.PENDING
        )
        session.add(existing)
    else:
        existing.status, existing.role = MembershipStatus.PENDING, Role.MEMBER
    try:
        session.commit()
    except IntegrityError as exc:  # a double submit raced us: one request is enough
        session.rollback()
        raise Conflict(N_("Your request is already waiting for an officer.")) from exc
    return existing


def _target(session: Session, clan_id: int, membership_id: int) -> Membership:
    membership = session.execute(
        select(Membership)
        .where(Membership.id == membership_id, Membership.clan_id == clan_id)
        .with_for_update()
    ).scalar_one_or_none()
    if membership is None:
        raise NotFound()
    return membership


def member_by_id(session: Session, actor_id: int, clan_id: int, membership_id: int) -> Membership:
    """An active membership of the clan, as seen by a member of it (404 otherwise)."""
    authz.active_membership(session, actor_id, clan_id)
    membership = session.execute(
        select(Membership).where(
            Membership.id == membership_id,
            Membership.clan_id == clan_id,
            Membership.status == MembershipStatus.ACTIVE,
        )
    ).scalar_one_or_none()
    if membership is None:
        raise NotFound()
    return membership


def decide_request(
    session: Session, actor_id: int, clan_id: int, membership_id: int, approve: bool
) -> Membership:
    """Approve (``active``) or reject a pending request (officer or leader).

    Raises:
        Conflict: the request was already decided (by someone else, or a double submit).
    """
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    audit.set_actor(session, actor_id)
    membership = _target(session, clan_id, membership_id)
    if membership.status != MembershipStatus.PENDING:
        raise Conflict(N_("This request has already been decided."))
    membership.status = MembershipStatus.ACTIVE if approve else MembershipStatus.REJECTED
    if approve:
        membership.joined_at = utcnow()
    session.commit()
    return membership


def set_role(
    session: Session, actor_id: int, clan_id: int, membership_id: int, role: Role
) -> Membership:
    """Promote a member to officer or demote an officer (leader only).

    Leadership moves only with :func:`hand_over_leadership`.
    """
    authz.require_role(session, actor_id, clan_id, Role.LEADER)
    role = Role(role)
    if role == Role.LEADER:
        raise ValidationError(N_("Use “hand over leadership” to make someone leader."), "role")
    audit.set_actor(session, actor_id)
    membership = _target(session, clan_id, membership_id)
    if membership.status != MembershipStatus.ACTIVE:
        raise Conflict(N_("Only active members can change role."))
    if membership.role == Role.LEADER:
        raise PermissionDenied(N_("Hand leadership over before changing your own role."))
    membership.role = role
    session.commit()
    return membership


def hand_over_leadership(
    session: Session, actor_id: int, clan_id: int, membership_id: int
) -> Membership:
    """Make another active member the leader; the old leader becomes an officer."""
    current = authz.require_role(session, actor_id, clan_id, Role.LEADER)
    audit.set_actor(session, actor_id)
    session.refresh(current, with_for_update=True)
    if current.role != Role.LEADER:  # lost a race with another hand-over
        raise Conflict(N_("You are no longer the leader."))
    target = _target(session, clan_id, membership_id)
    if target.id == current.id:
        raise ValidationError(N_("You are already the leader."), "membership")
    if target.status != MembershipStatus.ACTIVE:
        raise Conflict(N_("Only an active member can become leader."))
    current.role = Role.OFFICER
    target.role = Role.LEADER
    session.commit()
    return target


SETTLE_FIRST = N_(
    "Settle first: a balance of %(balance)s diamonds and %(transfers)s unpaid transfers "
    "(%(owed)s diamonds) are still open. Pay or confirm the transfers and wait for the close; "
    "an officer can remove the member with a reason."
)
REMOVAL_NEEDS_REASON = N_(
    "This member still has diamonds to settle: say why you remove them now "
    "(the balance stays in the ledger)."
)


@dataclass(frozen=True)
class Obligations:
    """What a member still has to settle: the balance of their characters in the open
    months, and the transfers they pay or receive that are not confirmed yet."""

    balance: int
    transfers: int
    owed: int

    @property
    def open(self) -> bool:
        return bool(self.balance or self.transfers)


def obligations(session: Session, clan_id: int, user_id: int) -> Obligations:
    """The member's open balance and unpaid transfers (see :class:`Obligations`). Each close
    carries balances into the next month, so the open months alone hold the current ones."""
    chars = select(Character.id).where(Character.clan_id == clan_id, Character.user_id == user_id)
    balance = session.execute(
        select(func.coalesce(func.sum(Posting.amount), 0))
        .join(Period, Period.id == Posting.period_id)
        .where(
            Posting.clan_id == clan_id,
            Posting.account_kind == AccountKind.MEMBER,
            Posting.character_id.in_(chars),
            Period.status == PeriodStatus.OPEN,
        )
    ).scalar_one()
    unpaid = (
        session.execute(
            select(Transfer.gross).where(
                Transfer.clan_id == clan_id,
                Transfer.status != TransferStatus.CONFIRMED,
                or_(
                    Transfer.payer_character_id.in_(chars),
                    Transfer.receiver_character_id.in_(chars),
                ),
            )
        )
        .scalars()
        .all()
    )
    return Obligations(int(balance), len(unpaid), sum(unpaid))


def _settle_first(found: Obligations) -> dict[str, int]:
    return {"balance": found.balance, "transfers": found.transfers, "owed": found.owed}


def remove_member(
    session: Session, actor_id: int, clan_id: int, membership_id: int, reason: str | None = None
) -> Membership:
    """Remove a member (officer or leader; only the leader removes officers).

    The membership stays as ``removed`` and the member's characters become inactive, so
    every posting, attendance and audit row about them remains. A member with an open
    balance or unpaid transfers is removed only with a reason (stored, so audited); the
    balance stays in the ledger.
    """
    actor = authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    audit.set_actor(session, actor_id)
    target = _target(session, clan_id, membership_id)
    if target.status != MembershipStatus.ACTIVE:
        raise Conflict(N_("This person is not an active member."))
    if target.id == actor.id:
        raise ValidationError(N_("To leave the clan yourself, use “leave clan”."), "membership")
    if target.role.rank >= actor.role.rank:
        raise PermissionDenied(N_("Only the leader can remove an officer."))
    found = obligations(session, clan_id, target.user_id)
    if found.open:
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError(REMOVAL_NEEDS_REASON, "reason", _settle_first(found))
        target.removal_reason = reason[:500]
    _retire(session, target)
    session.commit()
    return target


def leave_clan(session: Session, user_id: int, clan_id: int) -> Membership:
    """Leave a clan. The leader must hand leadership over first; a member with an open
    balance or unpaid transfers settles first (:data:`SETTLE_FIRST` says what)."""
    membership = authz.active_membership(session, user_id, clan_id)
    if membership.role == Role.LEADER:
        raise Conflict(N_("Hand leadership over before leaving the clan."))
    found = obligations(session, clan_id, user_id)
    if found.open:
        raise Conflict(SETTLE_FIRST, _settle_first(found))
    audit.set_actor(session, user_id)
    _retire(session, membership)
    session.commit()
    return membership


def _retire(session: Session, membership: Membership) -> None:
    membership.status = MembershipStatus.REMOVED
    membership.role = Role.MEMBER
    for character in session.execute(
        select(Character).where(
            Character.clan_id == membership.clan_id,
            Character.user_id == membership.user_id,
            Character.active.is_(True),
        )
    ).scalars():
        character.active = False


def regenerate_invite(session: Session, actor_id: int, clan_id: int) -> str:
    """Replace the invite code (officer); the old code and link stop working."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    audit.set_actor(session, actor_id)
    clan = session.get(Clan, clan_id, with_for_update=True)
    assert clan is not None
    clan.invite_code = new_invite_code()
    session.commit()
    return clan.invite_code


def list_members(session: Session, actor_id: int, clan_id: int) -> dict[str, list[MemberRow]]:
    """Members by status. Everyone sees the active list; officers also see the requests
    and the removed members."""
    viewer = authz.active_membership(session, actor_id, clan_id)
    statuses = [MembershipStatus.ACTIVE]
    if viewer.role.rank >= Role.OFFICER.rank:
        statuses += [MembershipStatus.PENDING, MembershipStatus.REMOVED]
    rows = session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.clan_id == clan_id, Membership.status.in_(statuses))
        .order_by(Membership.joined_at, Membership.id)
    ).all()
    characters: dict[int, list[Character]] = {}
    for character in session.execute(
        select(Character).where(Character.clan_id == clan_id, Character.user_id.is_not(None))
    ).scalars():
        characters.setdefault(character.user_id or 0, []).append(character)
    grouped: dict[str, list[MemberRow]] = {status: [] for status in statuses}
    rank = {Role.LEADER: 0, Role.OFFICER: 1, Role.MEMBER: 2}
    for membership, user in rows:
        grouped[membership.status].append(MemberRow(membership, user, characters.get(user.id, [])))
    for row in (row for rows in grouped.values() for row in rows):
        row.characters.sort(key=lambda character: sort_key(character.name))
    grouped[MembershipStatus.ACTIVE].sort(
        key=lambda row: (rank[row.membership.role], sort_key(row.user.display_name))
    )
    return grouped
