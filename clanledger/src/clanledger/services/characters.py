"""Characters: several per player (alts are common), roster characters added by officers for
players without an account, and claim links that attach a roster character to a player.

A character belongs to one clan at a time: game names are unique on a server, so an active
character of the same name in another clan on the same server is refused until it leaves.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clanledger.domain.collation import sort_key
from clanledger.domain.messages import N_
from clanledger.domain.names import INVALID_NAME, InvalidName, clean_name, name_key
from clanledger.models import Character, Clan, Role, User
from clanledger.services import audit, authz
from clanledger.services.accounts import hash_token
from clanledger.services.errors import Conflict, NotFound, PermissionDenied, ValidationError

CHARACTER_CLASSES = (
    "騎士",
    "妖精",
    "法師",
    "黑暗妖精",
    "王族",
    "槍騎士",
    "神聖劍士",
    "狂戰士",
    "鬥士",
    "幻術士",
)
NAME_TAKEN = N_("A character with this name is already in the clan.")


@dataclass(frozen=True)
class CharacterRow:
    character: Character
    owner: User | None


def _check_name(name: str) -> str:
    if not name.strip():
        raise ValidationError(N_("Give the character's in-game name."), "name")
    try:
        return clean_name(name)
    except InvalidName as exc:
        raise ValidationError(INVALID_NAME, "name") from exc


def _check_one_clan(session: Session, clan_id: int, name: str, exclude_id: int | None) -> None:
    """Refuse a name that is active in another clan on the same server."""
    clan = session.get(Clan, clan_id)
    assert clan is not None
    query = (
        select(Character.id)
        .join(Clan, Clan.id == Character.clan_id)
        .where(
            Clan.server == clan.server,
            Character.clan_id != clan_id,
            Character.active.is_(True),
            func.lower(Character.name) == name.lower(),
        )
    )
    if exclude_id is not None:
        query = query.where(Character.id != exclude_id)
    if session.execute(query.limit(1)).first() is not None:
        raise Conflict(
            N_("This character is in another clan on this server; it must leave that clan first.")
        )


def _same_name_here(session: Session, clan_id: int, name: str, exclude_id: int | None) -> bool:
    """Whether another character of the clan has this name once both are normalised and
    case-folded (``Ｂｏｂ`` and ``bob`` are one name)."""
    query = select(Character.id, Character.name).where(Character.clan_id == clan_id)
    key = name_key(name)
    return any(
        name_key(other) == key and row_id != exclude_id for row_id, other in session.execute(query)
    )


def _insert(session: Session, character: Character) -> Character:
    session.add(character)
    try:
        session.commit()
    except IntegrityError as exc:  # the unique (clan_id, name) constraint decided a race
        session.rollback()
        raise ValidationError(NAME_TAKEN, "name") from exc
    return character


def add_character(
    session: Session, actor_id: int, clan_id: int, name: str, char_class: str = ""
) -> Character:
    """Add one of the actor's own characters to the clan."""
    authz.active_membership(session, actor_id, clan_id)
    name = _check_name(name)
    if _same_name_here(session, clan_id, name, None):
        raise ValidationError(NAME_TAKEN, "name")
    _check_one_clan(session, clan_id, name, None)
    audit.set_actor(session, actor_id)
    character = Character(
        clan_id=clan_id, user_id=actor_id, name=name, char_class=char_class.strip()[:32]
    )
    return _insert(session, character)


def add_roster_character(
    session: Session, actor_id: int, clan_id: int, name: str, char_class: str = ""
) -> Character:
    """Add a character for a player who has no account yet (officer)."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    name = _check_name(name)
    if _same_name_here(session, clan_id, name, None):
        raise ValidationError(NAME_TAKEN, "name")
    _check_one_clan(session, clan_id, name, None)
    audit.set_actor(session, actor_id)
    character = Character(
        clan_id=clan_id, user_id=None, name=name, char_class=char_class.strip()[:32]
    )
    return _insert(session, character)


def get_character(session: Session, actor_id: int, clan_id: int, character_id: int) -> Character:
    """A character of the clan, for any active member of it (404 otherwise)."""
    authz.active_membership(session, actor_id, clan_id)
    character = session.execute(
        select(Character).where(Character.id == character_id, Character.clan_id == clan_id)
    ).scalar_one_or_none()
    if character is None:
        raise NotFound()
    return character


def update_character(
    session: Session,
    actor_id: int,
    clan_id: int,
    character_id: int,
    name: str,
    char_class: str,
    active: bool,
) -> Character:
    """Rename, change class or (de)activate: the owner or an officer."""
    membership = authz.active_membership(session, actor_id, clan_id)
    character = get_character(session, actor_id, clan_id, character_id)
    if character.user_id != actor_id and membership.role.rank < Role.OFFICER.rank:
        raise PermissionDenied(N_("Only the owner or an officer can change this character."))
    name = _check_name(name)
    if _same_name_here(session, clan_id, name, character.id):
        raise ValidationError(NAME_TAKEN, "name")
    if active:
        _check_one_clan(session, clan_id, name, character.id)
    audit.set_actor(session, actor_id)
    character.name, character.char_class, character.active = name, char_class.strip()[:32], active
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ValidationError(NAME_TAKEN, "name") from exc
    return character


def create_claim_link(session: Session, actor_id: int, clan_id: int, character_id: int) -> str:
    """A token that lets a player claim an unowned roster character (officer).

    A new token replaces the previous one; only the token's hash is stored.
    """
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    character = get_character(session, actor_id, clan_id, character_id)
    if character.user_id is not None:
        raise Conflict(N_("This character already belongs to a player."))
    audit.set_actor(session, actor_id)
    token = secrets.token_urlsafe(24)
    character.claim_token_hash = hash_token(token)
    session.commit()
    return token


def character_for_claim(session: Session, token: str) -> Character:
    """The roster character a claim token belongs to.

    Raises:
        NotFound: unknown token, or the character was claimed already.
    """
    character = session.execute(
        select(Character).where(Character.claim_token_hash == hash_token(token))
    ).scalar_one_or_none()
    if character is None or character.user_id is not None:
        raise NotFound(N_("This claim link is unknown or was used. Ask an officer for a new one."))
    return character


def claim_character(session: Session, user_id: int, token: str) -> Character:
    """Attach a roster character to the signed-in player, who must be in its clan."""
    character = character_for_claim(session, token)
    try:
        authz.active_membership(session, user_id, character.clan_id)
    except NotFound as exc:
        raise PermissionDenied(N_("Join the clan first; then open the claim link again.")) from exc
    audit.set_actor(session, user_id)
    session.refresh(character, with_for_update=True)
    if character.user_id is not None:
        raise Conflict(N_("This character already belongs to a player."))
    character.user_id = user_id
    character.claim_token_hash = None
    session.commit()
    return character


def list_characters(session: Session, actor_id: int, clan_id: int) -> list[CharacterRow]:
    """Every character of the clan with its owner, active first, then by name."""
    authz.active_membership(session, actor_id, clan_id)
    rows = session.execute(
        select(Character, User)
        .outerjoin(User, User.id == Character.user_id)
        .where(Character.clan_id == clan_id)
    ).all()
    rows.sort(key=lambda row: (not row[0].active, sort_key(row[0].name)))
    return [CharacterRow(character, user) for character, user in rows]


def owned_by(rows: list[CharacterRow], user_id: int) -> list[CharacterRow]:
    return [row for row in rows if row.character.user_id == user_id]
