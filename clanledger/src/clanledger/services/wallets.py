"""Wallets: a player groups characters whose diamonds are one purse (one game account).

A wallet is stored on its characters: ``Character.wallet_character_id`` names the wallet's
anchor, always its lowest id (so a restore in id order never points ahead); the anchor's is
empty, and so is that of a character on its own. The month plan nets per wallet
(:mod:`clanledger.domain.wallets`).

Rules:

* A wallet only groups characters of one player in one clan (roster characters nobody has
  claimed cannot share a wallet).
* A player regroups their own characters; officers can correct anyone's. Every change is a
  ``Character`` row change, so the audit log records who made it.
* While a month that was reopened still has transfers paid from its earlier close, wallets
  cannot change: the plan that will close it again must settle the same purses that
  people already paid from. A closed month's transfers are not affected by a later change
  (its wallet netting is already posted), so they never block one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from clanledger.domain.ledger import Account, member
from clanledger.domain.messages import N_
from clanledger.models import Character, Period, PeriodStatus, Role, Transfer, User
from clanledger.services import audit, authz
from clanledger.services.errors import Conflict, NotFound, PermissionDenied, ValidationError

MAX_WALLET = 20  # characters in one wallet: far more than one game account holds
NOT_IN_CLAN = N_("Choose characters of this clan.")
ONE_PLAYER = N_("A wallet only groups characters of one player.")
UNCLAIMED = N_("A character nobody has claimed cannot share a wallet.")
NOT_YOURS = N_("Only the player of these characters or an officer can change their wallets.")
REOPENED_WITH_PAYMENTS = N_(
    "%(month)s was reopened and some of its transfers are already paid: wallets can change "
    "again once it is closed."
)


def wallet_map(session: Session, clan_id: int) -> dict[Account, Account]:
    """Member account -> its wallet's anchor account, for the grouped characters of the clan.

    A pointer to a character that is itself grouped is followed to the end, so the plan
    always gets wallets one level deep (the services never write such a chain)."""
    points = dict(
        session.execute(
            select(Character.id, Character.wallet_character_id).where(
                Character.clan_id == clan_id, Character.wallet_character_id.is_not(None)
            )
        ).all()
    )
    wallets = {}
    for cid in points:
        anchor, seen = cid, {cid}
        while anchor in points and points[anchor] not in seen:
            anchor = points[anchor]
            seen.add(anchor)
        if anchor != cid:
            wallets[member(cid)] = member(anchor)
    return wallets


@dataclass(frozen=True)
class PlayerWallets:
    """One player's characters, by wallet (a wallet of one is a character on its own)."""

    player: User
    wallets: list[list[Character]]

    @property
    def characters(self) -> list[Character]:
        return [c for wallet in self.wallets for c in wallet]


def _by_wallet(characters: Iterable[Character]) -> list[list[Character]]:
    found: dict[int, list[Character]] = {}
    for character in sorted(characters, key=lambda c: c.id):
        found.setdefault(character.wallet_character_id or character.id, []).append(character)
    return sorted(found.values(), key=lambda w: (-len(w), w[0].name))


def wallets_of_clan(
    session: Session, actor_id: int, clan_id: int, everyone: bool = False
) -> list[PlayerWallets]:
    """The actor's wallets, or, with ``everyone`` (officers only), every player's."""
    if everyone:
        authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    else:
        authz.active_membership(session, actor_id, clan_id)
    query = (
        select(Character, User)
        .join(User, User.id == Character.user_id)
        .where(Character.clan_id == clan_id)
    )
    if not everyone:
        query = query.where(Character.user_id == actor_id)
    players: dict[int, tuple[User, list[Character]]] = {}
    for character, user in session.execute(query):
        players.setdefault(user.id, (user, []))[1].append(character)
    result = [PlayerWallets(user, _by_wallet(chars)) for user, chars in players.values()]
    return sorted(result, key=lambda p: (p.player.id != actor_id, p.player.display_name))


def require_wallets_changeable(session: Session, clan_id: int) -> None:
    """Refuse while an open (reopened) month still has transfers from its earlier close.

    Raises:
        Conflict: such a month exists.
    """
    month = session.execute(
        select(Period.starts_on)
        .join(Transfer, Transfer.period_id == Period.id)
        .where(Period.clan_id == clan_id, Period.status == PeriodStatus.OPEN)
        .order_by(Period.starts_on)
        .limit(1)
    ).scalar_one_or_none()
    if month is not None:
        raise Conflict(REOPENED_WITH_PAYMENTS, {"month": month})


def _characters(
    session: Session, actor_id: int, clan_id: int, character_ids: Iterable[int]
) -> list[Character]:
    """The characters, checked: of this clan, of one player, the actor's unless an officer."""
    membership = authz.active_membership(session, actor_id, clan_id)
    ids = sorted(set(character_ids))
    found = list(
        session.execute(
            select(Character).where(Character.clan_id == clan_id, Character.id.in_(ids))
        ).scalars()
    )
    if not ids or len(found) != len(ids):
        raise ValidationError(NOT_IN_CLAN, field="character_id")
    owners = {c.user_id for c in found}
    if None in owners:
        raise ValidationError(UNCLAIMED, field="character_id")
    if len(owners) > 1:
        raise ValidationError(ONE_PLAYER, field="character_id")
    if owners != {actor_id} and membership.role.rank < Role.OFFICER.rank:
        raise PermissionDenied(NOT_YOURS)
    return _lock_player(session, clan_id, owners.pop(), ids)


def _lock_player(session: Session, clan_id: int, user_id: int, ids: list[int]) -> list[Character]:
    """Lock every character of the player in the clan (PostgreSQL row locks; SQLite
    serialises writers already) and read them afresh: two regroupings of one player's
    characters at the same time run one after the other, so no wallet ever points at a
    character that is itself grouped elsewhere. Returns the characters ``ids``."""
    rows = session.execute(
        select(Character)
        .where(Character.clan_id == clan_id, Character.user_id == user_id)
        .order_by(Character.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalars()
    return [c for c in rows if c.id in ids]


def _take_out(session: Session, character: Character) -> None:
    """Leave the character's wallet; if it was the anchor, the next lowest id anchors it."""
    anchor_id = character.wallet_character_id or character.id
    others = [
        c
        for c in session.execute(
            select(Character).where(
                Character.clan_id == character.clan_id,
                Character.id != character.id,
                (Character.wallet_character_id == anchor_id) | (Character.id == anchor_id),
            )
        ).scalars()
    ]
    character.wallet_character_id = None
    if anchor_id != character.id or not others:
        return
    new_anchor = min(others, key=lambda c: c.id)
    for other in others:
        other.wallet_character_id = None if other is new_anchor else new_anchor.id


def group_characters(
    session: Session, actor_id: int, clan_id: int, character_ids: Iterable[int]
) -> list[Character]:
    """Put the characters (at least two, of one player) into one wallet of their own.

    Each leaves the wallet it was in; the others of that wallet stay together.

    Raises:
        ValidationError: fewer than two characters, too many, not of this clan, not of one
            player, or not claimed.
        PermissionDenied: a member grouping characters that are not theirs.
        Conflict: a reopened month has transfers already paid (see the module).
    """
    ids = set(character_ids)
    if len(ids) < 2:
        raise ValidationError(N_("Choose at least two characters to share a wallet."))
    if len(ids) > MAX_WALLET:
        raise ValidationError(
            N_("A wallet holds at most %(n)s characters."), params={"n": MAX_WALLET}
        )
    chosen = _characters(session, actor_id, clan_id, ids)
    require_wallets_changeable(session, clan_id)
    audit.set_actor(session, actor_id)
    for character in chosen:
        _take_out(session, character)
    session.flush()
    anchor = min(chosen, key=lambda c: c.id)
    for character in chosen:
        character.wallet_character_id = None if character is anchor else anchor.id
    session.commit()
    return chosen


def ungroup_character(
    session: Session, actor_id: int, clan_id: int, character_id: int
) -> Character:
    """Take one character out of its wallet (it becomes a wallet of its own).

    Raises:
        NotFound: not a character of this clan.
        PermissionDenied: a member ungrouping a character that is not theirs.
        Conflict: a reopened month has transfers already paid (see the module).
    """
    authz.active_membership(session, actor_id, clan_id)
    found = session.get(Character, character_id)
    if found is None or found.clan_id != clan_id:
        raise NotFound()  # an id of another clan in the address: as if it did not exist
    (character,) = _characters(session, actor_id, clan_id, [character_id])
    require_wallets_changeable(session, clan_id)
    audit.set_actor(session, actor_id)
    _take_out(session, character)
    session.commit()
    return character
