"""Boss kills and their roll call: recording a kill (boss from the list in
:mod:`~clanledger.services.bosses`) with weighted participants, member check-in with the
kill's code, and the roll-call lock.

A participant's weight is an exact :class:`~fractions.Fraction` (full 1, half 1/2, or a
custom value such as 5/4). The clan's caller bonus is copied onto the kill when it is
recorded and added to the caller's weight when a drop of the kill is sold.

Before the roll call locks, officers edit it freely and members add themselves with the
check-in code. After it locks, only officers change it, with a reason; every change is in
the audit log (automatically), and drops already sold are re-posted (a reversing entry plus
a new distribution) so balances follow the corrected roll call.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from clanledger.domain.attendance import kill_weights
from clanledger.domain.collation import by_name, sort_key
from clanledger.domain.errors import DomainError
from clanledger.domain.messages import N_
from clanledger.domain.notify import Event
from clanledger.domain.split import parse_weight
from clanledger.models import Attendance, Character, Clan, DropStatus, Kill, Role
from clanledger.models.types import utcnow
from clanledger.services import audit, authz, bosses, notify, sales

# The boss list is part of recording kills: re-exported (``bosses.add_boss`` and so on).
from clanledger.services.errors import (
    NotFound,
    ValidationError,
    commit_or_conflict,
    flush_or_conflict,
)

# No 0/O or 1/I/L: a code read aloud in voice chat or off a phone screen is typed right.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 4
MAX_WEIGHT = Fraction(10)
WEIGHT_PRESETS = {"full": Fraction(1), "half": Fraction(1, 2)}
CALLER_NOT_THERE = N_("The caller must be one of the participants.")


# -- weights and participants --------------------------------------------------------------


def parse_participant_weight(text: str | Fraction | int) -> Fraction:
    """A weight as typed: ``full``, ``half``, ``1``, ``0.5``, ``1/2``, ``1.25``.

    Raises:
        ValidationError: not a number, negative, or above :data:`MAX_WEIGHT`.
    """
    if isinstance(text, Fraction | int):
        weight = Fraction(text)
    else:
        key = text.strip().lower()
        if key in WEIGHT_PRESETS:
            weight = WEIGHT_PRESETS[key]
        else:
            try:
                weight = parse_weight(key)
            except (DomainError, ValueError, ZeroDivisionError) as exc:
                raise ValidationError(
                    N_("A weight is a number such as 1, 0.5, 1/2 or 1.25."),
                    field="participants",
                ) from exc
    if weight < 0 or weight > MAX_WEIGHT:
        raise ValidationError(N_("A weight is between 0 and 10."), field="participants")
    return weight


def _roll_call(
    session: Session, clan_id: int, participants: Mapping[int, str | Fraction | int]
) -> dict[int, Fraction]:
    """Validate ``{character_id: weight}``: clan characters only, not all weights zero."""
    weights = {int(cid): parse_participant_weight(w) for cid, w in participants.items()}
    if weights and sum(weights.values()) == 0:
        raise ValidationError(
            N_("Every participant has weight 0: give at least one of them a share."),
            field="participants",
        )
    if weights:
        found = set(
            session.execute(
                select(Character.id).where(
                    Character.clan_id == clan_id,
                    Character.id.in_(weights),
                    Character.active.is_(True),
                )
            ).scalars()
        )
        unknown = sorted(set(weights) - found)
        if unknown:
            raise ValidationError(
                N_("An unknown character was picked: choose participants from the clan roster."),
                field="participants",
            )
    return weights


def _new_code(session: Session, clan_id: int, now: datetime) -> str:
    """A short code not used by another kill of the clan whose check-in is still open."""
    open_codes = set(
        session.execute(
            select(Kill.checkin_code).where(Kill.clan_id == clan_id, Kill.checkin_until >= now)
        ).scalars()
    )
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if code not in open_codes:
            return code


# -- kills ------------------------------------------------------------------------------


def _recorded_with_key(session: Session, clan_id: int, request_key: str | None) -> Kill | None:
    """The kill a form with ``request_key`` already recorded (a double submit), if any."""
    if not request_key:
        return None
    return session.execute(
        select(Kill).where(Kill.clan_id == clan_id, Kill.request_key == request_key)
    ).scalar_one_or_none()


def _check_kill_time(killed_at: datetime, now: datetime) -> None:
    if killed_at.tzinfo is None:
        raise ValidationError(N_("The kill time needs a timezone."), field="killed_at")
    if killed_at > now + timedelta(minutes=5):
        raise ValidationError(N_("The kill time is in the future."), field="killed_at")


def _windows(clan: Clan, killed_at: datetime, now: datetime) -> tuple[datetime, datetime]:
    """When check-in closes and when the roll call locks, for a kill recorded ``now``."""
    opens = max(now, killed_at)
    checkin_until = opens + timedelta(minutes=clan.checkin_window_minutes)
    locks_at = max(checkin_until, opens + timedelta(minutes=clan.rollcall_lock_minutes))
    return checkin_until, locks_at


def _save_and_announce(session: Session, clan: Clan, kill: Kill, boss: str) -> None:
    """Commit ``kill`` with its check-in code queued for the clan chat."""
    twice = N_("This kill was already recorded (the form was sent twice).")
    session.add(kill)
    flush_or_conflict(session, twice)
    notify.enqueue(session, clan, Event.KILL_RECORDED, notify.kill_data(clan, kill, boss))
    commit_or_conflict(session, twice)


def record_kill(
    session: Session,
    actor_id: int,
    clan_id: int,
    *,
    boss_id: int,
    killed_at: datetime,
    participants: Mapping[int, str | Fraction | int],
    caller_character_id: int | None = None,
    note: str = "",
    request_key: str | None = None,
    now: datetime | None = None,
) -> Kill:
    """Record a boss kill with its roll call (officer).

    ``participants`` maps character id to weight; it may be empty when members will check
    in with the code. ``request_key`` (one per form shown) makes a double submit return
    the kill already recorded instead of a second one.

    Raises:
        ValidationError: unknown boss or character, bad weight, all weights zero, a caller
            who is not a participant, a kill time in the future.
    """
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    now = now or utcnow()
    existing = _recorded_with_key(session, clan_id, request_key)
    if existing is not None:
        return existing
    boss = bosses.boss_of(session, clan_id, boss_id)
    if not boss.active:
        raise ValidationError(N_("This boss is no longer on the list."), field="boss_id")
    _check_kill_time(killed_at, now)
    weights = _roll_call(session, clan_id, participants)
    if caller_character_id is not None and caller_character_id not in weights:
        raise ValidationError(CALLER_NOT_THERE, field="caller")
    clan = session.get(Clan, clan_id)
    assert clan is not None
    audit.set_actor(session, actor_id)
    checkin_until, locks_at = _windows(clan, killed_at, now)
    kill = Kill(
        clan_id=clan_id,
        boss_id=boss.id,
        killed_at=killed_at,
        checkin_code=_new_code(session, clan_id, now),
        checkin_until=checkin_until,
        rollcall_locked_at=locks_at,
        caller_character_id=caller_character_id,
        caller_bonus=parse_weight(clan.caller_bonus or "0") if caller_character_id else 0,
        note=note.strip()[:200],
        request_key=request_key,
        created_by_id=actor_id,
    )
    kill.attendance = [
        Attendance(clan_id=clan_id, character_id=cid, weight=w, source="officer")
        for cid, w in weights.items()
    ]
    _save_and_announce(session, clan, kill, boss.name)
    return kill


def get_kill(session: Session, actor_id: int, clan_id: int, kill_id: int) -> Kill:
    """One kill of the clan with its boss, roll call and drops loaded."""
    authz.active_membership(session, actor_id, clan_id)
    kill = session.execute(
        select(Kill)
        .where(Kill.id == kill_id, Kill.clan_id == clan_id)
        .options(
            selectinload(Kill.boss),
            selectinload(Kill.attendance),
            selectinload(Kill.drops),
        )
    ).scalar_one_or_none()
    if kill is None:
        raise NotFound()
    return kill


def list_kills(
    session: Session, actor_id: int, clan_id: int, limit: int = 50, offset: int = 0
) -> list[Kill]:
    """The clan's kills, newest first, with boss, roll call and drops (constant queries)."""
    authz.active_membership(session, actor_id, clan_id)
    return list(
        session.execute(
            select(Kill)
            .where(Kill.clan_id == clan_id)
            .order_by(Kill.killed_at.desc(), Kill.id.desc())
            .limit(limit)
            .offset(offset)
            .options(
                selectinload(Kill.boss),
                selectinload(Kill.attendance),
                selectinload(Kill.drops),
            )
        ).scalars()
    )


def count_kills(session: Session, actor_id: int, clan_id: int) -> int:
    """How many kills the clan has recorded (the kills list says so on every page)."""
    authz.active_membership(session, actor_id, clan_id)
    return session.execute(select(func.count(Kill.id)).where(Kill.clan_id == clan_id)).scalar_one()


def is_locked(kill: Kill, now: datetime | None = None) -> bool:
    """Whether the roll call is past its lock time."""
    return kill.rollcall_locked_at is not None and (now or utcnow()) >= kill.rollcall_locked_at


def checkin_open(kill: Kill, now: datetime | None = None) -> bool:
    """Whether members can still check in with the code."""
    return kill.checkin_until is not None and (now or utcnow()) <= kill.checkin_until


def check_in(
    session: Session,
    actor_id: int,
    clan_id: int,
    code: str,
    character_id: int | None = None,
    now: datetime | None = None,
) -> Attendance:
    """A member adds their character to a kill's roll call with the kill's code.

    ``character_id`` picks which of the member's characters (needed only with alts).

    Raises:
        ValidationError: wrong or expired code, or a character that is not the member's.
        Conflict: the character is already on the roll call.
    """
    authz.active_membership(session, actor_id, clan_id)
    now = now or utcnow()
    code = code.strip().upper()
    kill = session.execute(
        select(Kill).where(
            Kill.clan_id == clan_id, Kill.checkin_code == code, Kill.checkin_until >= now
        )
    ).scalar_one_or_none()
    if kill is None:
        raise ValidationError(
            N_("No kill is open for check-in with this code (wrong code, or the window closed)."),
            field="code",
        )
    mine = list(
        session.execute(
            select(Character).where(
                Character.clan_id == clan_id,
                Character.user_id == actor_id,
                Character.active.is_(True),
            )
        ).scalars()
    )
    if character_id is None:
        if len(mine) != 1:
            raise ValidationError(
                N_("Pick which of your characters was there.")
                if mine
                else N_("You have no character in this clan yet: add one first."),
                field="character_id",
            )
        character = mine[0]
    else:
        character = next((c for c in mine if c.id == character_id), None)
        if character is None:
            raise ValidationError(N_("That is not one of your characters."), field="character_id")
    audit.set_actor(session, actor_id)
    attendance = Attendance(
        clan_id=clan_id, kill_id=kill.id, character_id=character.id, weight=1, source="checkin"
    )
    session.add(attendance)
    commit_or_conflict(session, N_("This character is already on the roll call of this kill."))
    return attendance


def roll_call_weights(kill: Kill) -> dict[int, Fraction]:
    """``{character_id: weight}`` of the kill (:func:`domain.attendance.kill_weights`)."""
    return kill_weights(
        {a.character_id: a.weight for a in kill.attendance},
        kill.caller_character_id,
        kill.caller_bonus,
    )


def set_roll_call(
    session: Session,
    actor_id: int,
    clan_id: int,
    kill_id: int,
    participants: Mapping[int, str | Fraction | int],
    caller_character_id: int | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Kill:
    """Replace a kill's roll call (officer).

    After the lock a reason is required; drops of the kill already sold are re-posted
    (reversal plus a new distribution) in the open period, with that reason.
    """
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    now = now or utcnow()
    kill = session.execute(
        select(Kill)
        .where(Kill.id == kill_id, Kill.clan_id == clan_id)
        .with_for_update()
        .options(selectinload(Kill.attendance), selectinload(Kill.drops))
    ).scalar_one_or_none()
    if kill is None:
        raise NotFound()
    has_sales = any(d.status in (DropStatus.SOLD, DropStatus.BOUGHT) for d in kill.drops)
    reason = _change_reason(reason, is_locked(kill, now), has_sales)
    weights = _roll_call(session, clan_id, participants)
    if not weights:
        raise ValidationError(N_("A kill needs at least one participant."), field="participants")
    if caller_character_id is not None and caller_character_id not in weights:
        raise ValidationError(CALLER_NOT_THERE, field="caller")
    audit.set_actor(session, actor_id)
    _replace_attendance(kill, weights)
    if caller_character_id != kill.caller_character_id:
        clan = session.get(Clan, clan_id)
        assert clan is not None
        kill.caller_character_id = caller_character_id
        if caller_character_id is None:
            kill.caller_bonus = Fraction(0)
        elif not kill.caller_bonus:
            kill.caller_bonus = parse_weight(clan.caller_bonus or "0")
    session.flush()
    if has_sales:
        sales.repost_kill_sales(session, actor_id, kill, reason=reason, now=now)
    commit_or_conflict(
        session, N_("The roll call changed meanwhile: reload the page and try again.")
    )
    return kill


def _change_reason(reason: str, locked: bool, has_sales: bool) -> str:
    """The reason for a roll-call change, required once locked or once items are sold."""
    reason = reason.strip()
    if locked and not reason:
        raise ValidationError(
            N_("The roll call is locked: give a reason for the change."), field="reason"
        )
    if has_sales and not reason:
        raise ValidationError(
            N_("Items of this kill are already sold and will be re-posted: give a reason."),
            field="reason",
        )
    return reason


def _replace_attendance(kill: Kill, weights: Mapping[int, Fraction]) -> None:
    """Make the kill's attendance rows match ``weights``: only real changes become updates
    (so the audit log shows exactly what changed)."""
    current = {a.character_id: a for a in kill.attendance}
    for cid, row in current.items():
        if cid not in weights:
            kill.attendance.remove(row)
    for cid, weight in weights.items():
        if cid not in current:
            kill.attendance.append(
                Attendance(clan_id=kill.clan_id, kill_id=kill.id, character_id=cid, weight=weight)
            )
        elif current[cid].weight != weight:
            current[cid].weight = weight


def roster(
    session: Session, actor_id: int, clan_id: int, regulars_first: bool = False
) -> list[Character]:
    """The clan's active characters: the participants a kill can pick from.

    By name; with ``regulars_first``, those at the most kills of the last 30 days come
    first (the officer recording a kill on a phone finds the usual party at the top).
    """
    authz.active_membership(session, actor_id, clan_id)
    query = select(Character).where(Character.clan_id == clan_id, Character.active.is_(True))
    if regulars_first:
        recent = (
            select(Attendance.character_id, func.count(Attendance.id).label("n"))
            .join(Kill, Kill.id == Attendance.kill_id)
            .where(Kill.clan_id == clan_id, Kill.killed_at >= utcnow() - timedelta(days=30))
            .group_by(Attendance.character_id)
            .subquery()
        )
        query = query.add_columns(func.coalesce(recent.c.n, 0)).outerjoin(
            recent, recent.c.character_id == Character.id
        )
        found = session.execute(query).all()
        found.sort(key=lambda row: (-row[1], sort_key(row[0].name)))
        return [character for character, _kills in found]
    return by_name(session.execute(query).scalars(), lambda character: character.name)


def last_roll_call(session: Session, actor_id: int, clan_id: int) -> dict[int, Fraction]:
    """The roll call of the clan's latest kill (to repeat the same party in one tap)."""
    authz.active_membership(session, actor_id, clan_id)
    latest = (
        select(Kill.id)
        .where(Kill.clan_id == clan_id)
        .order_by(Kill.killed_at.desc(), Kill.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Attendance.character_id, Attendance.weight).where(Attendance.kill_id == latest)
    ).all()
    return {cid: Fraction(weight) for cid, weight in rows}


def my_characters(session: Session, actor_id: int, clan_id: int) -> list[Character]:
    """The actor's active characters in the clan, by name (for check-in)."""
    return by_name(
        session.execute(
            select(Character).where(
                Character.clan_id == clan_id,
                Character.user_id == actor_id,
                Character.active.is_(True),
            )
        ).scalars(),
        lambda character: character.name,
    )
