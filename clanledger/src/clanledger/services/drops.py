"""Drops: items from a kill, held by the character who picked them up.

Lifecycle (sales and internal purchases are in :mod:`clanledger.services.sales`)::

    held ──list──> listed ──sell──> sold
      │              │
      │           unsold ──list (relist)──> listed
      ├──buy internally──> bought   (also from listed, unsold or stored)
      ├──auction──> auction ──won──> bought; no bids or cancelled: back to held
      └──store──> stored ──list──> listed   (also from listed or unsold)

The holder (the member who plays the holding character) or an officer moves an item. Every
change is a row update, so the audit log records it; the row's version column makes two
officers acting on the same item at once a conflict instead of a lost update.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from clanledger.domain import money
from clanledger.domain.collation import by_name
from clanledger.domain.errors import InvalidAmount, PriceOutOfRange
from clanledger.domain.messages import N_
from clanledger.domain.notify import Event
from clanledger.models import Character, Clan, Drop, DropStatus, Kill, Membership, Role, Sale
from clanledger.models.types import utcnow
from clanledger.services import audit, authz, notify
from clanledger.services.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationError,
    commit_or_conflict,
    flush_or_conflict,
)
from clanledger.services.paging import LIKE_ESCAPE, contains_pattern, page_window

OPEN_STATUSES = (DropStatus.HELD, DropStatus.LISTED, DropStatus.UNSOLD, DropStatus.AUCTION)
"""Items still waiting for a buyer: the "who holds what" list."""

CHANGED_MEANWHILE = N_("This item changed meanwhile: reload the page and try again.")

TRANSITIONS: dict[DropStatus, set[DropStatus]] = {
    DropStatus.HELD: {DropStatus.LISTED, DropStatus.BOUGHT, DropStatus.STORED, DropStatus.AUCTION},
    DropStatus.LISTED: {DropStatus.SOLD, DropStatus.UNSOLD, DropStatus.BOUGHT, DropStatus.STORED},
    DropStatus.UNSOLD: {
        DropStatus.LISTED,
        DropStatus.BOUGHT,
        DropStatus.STORED,
        DropStatus.AUCTION,
    },
    DropStatus.STORED: {DropStatus.LISTED, DropStatus.BOUGHT, DropStatus.AUCTION},
    # Only the auction moves its item: bought by the winner, or back to held (no bids,
    # cancelled); see services/auctions.py.
    DropStatus.AUCTION: set(),
    DropStatus.SOLD: set(),
    DropStatus.BOUGHT: set(),
}


def require_transition(drop: Drop, target: DropStatus) -> None:
    """Raise :class:`Conflict` unless ``drop`` may move to ``target``."""
    if target not in TRANSITIONS[drop.status]:
        if drop.status in (DropStatus.SOLD, DropStatus.BOUGHT):
            raise Conflict(N_("This item has already been sold: nothing more to record."))
        if drop.status == DropStatus.AUCTION:
            raise Conflict(
                N_("Members are bidding on this item: wait for the auction to end, or cancel it.")
            )
        raise Conflict(N_("This item cannot go from its current state to the one asked for."))


def price_or_error(value: object, field: str) -> int:
    """A price within :func:`domain.money.require_price`'s limits, or
    :class:`ValidationError` on ``field``."""
    try:
        return money.require_price(value, field)
    except PriceOutOfRange as exc:
        message = (
            N_("This price is too large.")
            if exc.too_high
            else N_("A price must be above 0 diamonds.")
        )
        raise ValidationError(message, field=field) from exc
    except InvalidAmount as exc:
        raise ValidationError(N_("A price is a whole number of diamonds."), field=field) from exc


def holder_of(session: Session, drop: Drop) -> Character | None:
    """The character holding ``drop``."""
    return session.get(Character, drop.holder_character_id)


def clan_character(session: Session, clan_id: int, character_id: int, field: str) -> Character:
    """An active character of the clan, or :class:`ValidationError` on ``field``."""
    character = session.get(Character, character_id)
    if character is None or character.clan_id != clan_id or not character.active:
        raise ValidationError(
            N_("An unknown character was picked: choose one from the clan roster."), field=field
        )
    return character


def require_holder_or_officer(
    session: Session, actor_id: int, clan_id: int, holder_character_id: int
) -> Membership:
    """The actor's membership if they play the holding character or are an officer."""
    membership = authz.active_membership(session, actor_id, clan_id)
    if membership.role.rank >= Role.OFFICER.rank:
        return membership
    holder = session.get(Character, holder_character_id)
    if holder is None or holder.user_id != actor_id:
        raise PermissionDenied(N_("Only the holder of the item or an officer can do this."))
    return membership


def lock_drop(session: Session, clan_id: int, drop_id: int) -> Drop:
    """Load a drop of the clan, locked for update (PostgreSQL row lock)."""
    drop = session.execute(
        select(Drop).where(Drop.id == drop_id, Drop.clan_id == clan_id).with_for_update()
    ).scalar_one_or_none()
    if drop is None:
        raise NotFound()
    return drop


def check_version(drop: Drop, expected_version: int | None) -> None:
    """A form shown for an older version of the item is a conflict, not a silent overwrite."""
    if expected_version is not None and drop.version != expected_version:
        raise Conflict(N_("This item changed since the form was opened: reload and try again."))


def record_drop(
    session: Session,
    actor_id: int,
    clan_id: int,
    *,
    kill_id: int,
    name: str,
    holder_character_id: int,
    grade: str = "",
    request_key: str | None = None,
    now: datetime | None = None,
) -> Drop:
    """Record an item that dropped at a kill, held by ``holder_character_id``.

    Officers record any drop; a member records a drop their own character picked up.
    ``now`` is when it was picked up (defaults to now): the "oldest first" order.
    """
    holder = clan_character(session, clan_id, holder_character_id, "holder_character_id")
    require_holder_or_officer(session, actor_id, clan_id, holder.id)
    if request_key:
        existing = session.execute(
            select(Drop).where(Drop.clan_id == clan_id, Drop.request_key == request_key)
        ).scalar_one_or_none()
        if existing is not None:
            return existing
    kill = session.get(Kill, kill_id)
    if kill is None or kill.clan_id != clan_id:
        raise ValidationError(N_("No such kill in this clan."), field="kill_id")
    name, grade = name.strip(), grade.strip()
    if not name or len(name) > 100:
        raise ValidationError(N_("An item name is 1 to 100 characters."), field="name")
    if len(grade) > 32:
        raise ValidationError(N_("A grade is at most 32 characters."), field="grade")
    audit.set_actor(session, actor_id)
    drop = Drop(
        clan_id=clan_id,
        kill_id=kill.id,
        name=name,
        grade=grade,
        holder_character_id=holder.id,
        status=DropStatus.HELD,
        request_key=request_key,
        created_at=now or utcnow(),
    )
    session.add(drop)
    twice = N_("This item was already recorded (the form was sent twice).")
    flush_or_conflict(session, twice)
    clan = session.get(Clan, clan_id)
    assert clan is not None
    data = {"kill_id": kill.id, "drop_id": drop.id, "item": drop.name, "grade": drop.grade}
    data |= {"boss": kill.boss.name, "holder": holder.name, "holder_id": holder.id}
    notify.enqueue(session, clan, Event.DROP_RECORDED, data)
    commit_or_conflict(session, twice)
    return drop


def get_drop(session: Session, actor_id: int, clan_id: int, drop_id: int) -> Drop:
    """One item of the clan with its kill (and boss) and sale loaded."""
    authz.active_membership(session, actor_id, clan_id)
    drop = session.execute(
        select(Drop)
        .where(Drop.id == drop_id, Drop.clan_id == clan_id)
        .options(selectinload(Drop.kill).selectinload(Kill.boss), selectinload(Drop.sale))
    ).scalar_one_or_none()
    if drop is None:
        raise NotFound()
    return drop


def list_drops(
    session: Session,
    actor_id: int,
    clan_id: int,
    statuses: tuple[DropStatus, ...] | None = None,
    holder_character_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Drop]:
    """Every item of the clan (up to ``limit`` from ``offset`` when given), oldest first,
    filtered by status and holder (constant queries). Pages show :func:`drop_page`."""
    authz.active_membership(session, actor_id, clan_id)
    query = (
        select(Drop)
        .where(Drop.clan_id == clan_id)
        .order_by(Drop.created_at, Drop.id)
        .limit(limit)
        .offset(offset)
        .options(selectinload(Drop.kill).selectinload(Kill.boss), selectinload(Drop.sale))
    )
    if statuses:
        query = query.where(Drop.status.in_(statuses))
    if holder_character_id is not None:
        query = query.where(Drop.holder_character_id == holder_character_id)
    return list(session.execute(query).scalars())


def item_names(session: Session, actor_id: int, clan_id: int, limit: int = 200) -> list[str]:
    """Names of the clan's ``limit`` most often recorded items, in the reader's order:
    suggestions for the next."""
    authz.active_membership(session, actor_id, clan_id)
    query = (
        select(Drop.name)
        .where(Drop.clan_id == clan_id)
        .group_by(Drop.name)
        .order_by(func.count(Drop.id).desc(), func.max(Drop.id).desc())
        .limit(limit)
    )
    return by_name(session.execute(query).scalars())


ITEMS_PER_PAGE = 50


@dataclass(frozen=True)
class DropFilter:
    """What the items list shows: any of these narrow it (None / False: no narrowing)."""

    statuses: tuple[DropStatus, ...] | None = None
    holder_character_id: int | None = None
    boss_id: int | None = None
    mine: bool = False  # held by one of the signed-in player's characters
    search: str = ""  # part of the item's name, any case
    to_check: bool = False  # sold for another amount than the exchange should have paid


@dataclass(frozen=True)
class DropPage:
    rows: list[Drop]
    total: int  # items matching the filter, on every page
    page: int
    pages: int


def drop_page(
    session: Session, actor_id: int, clan_id: int, where: DropFilter, page: int = 1
) -> DropPage:
    """One page of the clan's items, newest first, with how many match in all."""
    authz.active_membership(session, actor_id, clan_id)
    conditions = [Drop.clan_id == clan_id]
    if where.statuses:
        conditions.append(Drop.status.in_(where.statuses))
    if where.holder_character_id is not None:
        conditions.append(Drop.holder_character_id == where.holder_character_id)
    if where.boss_id is not None:
        conditions.append(Drop.kill_id.in_(select(Kill.id).where(Kill.boss_id == where.boss_id)))
    if where.mine:
        mine = select(Character.id).where(
            Character.clan_id == clan_id, Character.user_id == actor_id
        )
        conditions.append(Drop.holder_character_id.in_(mine))
    if where.to_check:
        flagged = select(Sale.drop_id).where(
            Sale.clan_id == clan_id,
            Sale.expected_received.is_not(None),
            Sale.received != Sale.expected_received,
        )
        conditions.append(Drop.id.in_(flagged))
    if where.search.strip():
        conditions.append(Drop.name.ilike(contains_pattern(where.search), escape=LIKE_ESCAPE))
    total = session.execute(select(func.count(Drop.id)).where(*conditions)).scalar_one()
    page, pages, offset = page_window(total, page, ITEMS_PER_PAGE)
    rows = session.execute(
        select(Drop)
        .where(*conditions)
        .order_by(Drop.created_at.desc(), Drop.id.desc())
        .limit(ITEMS_PER_PAGE)
        .offset(offset)
        .options(selectinload(Drop.kill).selectinload(Kill.boss), selectinload(Drop.sale))
    ).scalars()
    return DropPage(list(rows), total, page, pages)


def list_drop(
    session: Session,
    actor_id: int,
    clan_id: int,
    drop_id: int,
    asking_price: int,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Drop:
    """Put an item on the exchange at ``asking_price`` (also relists an unsold item)."""
    drop = lock_drop(session, clan_id, drop_id)
    require_holder_or_officer(session, actor_id, clan_id, drop.holder_character_id)
    price_or_error(asking_price, "asking_price")
    check_version(drop, expected_version)
    require_transition(drop, DropStatus.LISTED)
    audit.set_actor(session, actor_id)
    if drop.status == DropStatus.UNSOLD:
        drop.relist_count += 1
    drop.status = DropStatus.LISTED
    drop.asking_price = asking_price
    drop.listed_at = now or utcnow()
    commit_or_conflict(session, CHANGED_MEANWHILE)
    return drop


def mark_unsold(
    session: Session,
    actor_id: int,
    clan_id: int,
    drop_id: int,
    expected_version: int | None = None,
) -> Drop:
    """The listing ran out without a buyer: the item is back with its holder, unsold."""
    return _move(session, actor_id, clan_id, drop_id, DropStatus.UNSOLD, expected_version)


def store_drop(
    session: Session,
    actor_id: int,
    clan_id: int,
    drop_id: int,
    expected_version: int | None = None,
) -> Drop:
    """Put the item into clan storage (no diamonds move)."""
    return _move(session, actor_id, clan_id, drop_id, DropStatus.STORED, expected_version)


def _move(
    session: Session,
    actor_id: int,
    clan_id: int,
    drop_id: int,
    target: DropStatus,
    expected_version: int | None,
) -> Drop:
    drop = lock_drop(session, clan_id, drop_id)
    require_holder_or_officer(session, actor_id, clan_id, drop.holder_character_id)
    check_version(drop, expected_version)
    require_transition(drop, target)
    audit.set_actor(session, actor_id)
    drop.status = target
    commit_or_conflict(session, CHANGED_MEANWHILE)
    return drop
