"""Items that dropped: the list (oldest first, by state), one item with its sale, and what
happens to it (listed, unsold, stored, sold, bought by a member), through the same services
as the items pages. Actions need a read-write token; the holder's player or an officer."""

from __future__ import annotations

from typing import Any

from clanledger.api import schemas
from clanledger.api.auth import api_user_id
from clanledger.api.blueprint import bp
from clanledger.api.idempotency import KEY_PARAMETER, idempotent
from clanledger.api.paging import decode_cursor, encode_cursor
from clanledger.extensions import db
from clanledger.models import Drop, DropStatus
from clanledger.services import drops, sales


def _shown(drop: Drop) -> dict[str, Any]:
    return {
        "id": drop.id,
        "kill_id": drop.kill_id,
        "boss": drop.kill.boss.name,
        "name": drop.name,
        "grade": drop.grade,
        "holder_character_id": drop.holder_character_id,
        "status": drop.status.value,
        "asking_price": drop.asking_price,
        "listed_at": drop.listed_at,
        "relist_count": drop.relist_count,
        "created_at": drop.created_at,
        "version": drop.version,
        "sale": drop.sale,
    }


@bp.get("/clans/<int:clan_id>/drops")
@bp.arguments(schemas.DropArgs, location="query")
@bp.response(200, schemas.DropPage)
def drop_list(args: dict[str, Any], clan_id: int) -> dict[str, Any]:
    """The clan's items, oldest first, optionally only those in one state."""
    start, limit = decode_cursor("drops", args["cursor"]), args["limit"]
    statuses = (DropStatus(args["status"]),) if args["status"] else None
    found = drops.list_drops(
        db.session, api_user_id(), clan_id, statuses, limit=limit + 1, offset=start
    )
    return {
        "items": [_shown(d) for d in found[:limit]],
        "next_cursor": encode_cursor("drops", start + limit) if len(found) > limit else None,
    }


@bp.get("/clans/<int:clan_id>/drops/<int:drop_id>")
@bp.response(200, schemas.DropSchema)
def drop_detail(clan_id: int, drop_id: int) -> dict[str, Any]:
    """One item with its kill's boss and, once sold or bought, its sale."""
    return _shown(drops.get_drop(db.session, api_user_id(), clan_id, drop_id))


def _after(clan_id: int, drop_id: int) -> dict[str, Any]:
    return _shown(drops.get_drop(db.session, api_user_id(), clan_id, drop_id))


@bp.post("/clans/<int:clan_id>/drops/<int:drop_id>/listing")
@bp.doc(parameters=[KEY_PARAMETER])
@idempotent
@bp.arguments(schemas.ListArgs)
@bp.response(200, schemas.DropSchema)
def drop_listing(args: dict[str, Any], clan_id: int, drop_id: int) -> dict[str, Any]:
    """Put the item on the exchange at ``asking_price`` (an unsold one is relisted)."""
    drops.list_drop(
        db.session, api_user_id(), clan_id, drop_id, args["asking_price"], args["version"]
    )
    return _after(clan_id, drop_id)


@bp.post("/clans/<int:clan_id>/drops/<int:drop_id>/unsold")
@bp.doc(parameters=[KEY_PARAMETER])
@idempotent
@bp.arguments(schemas.DropActionArgs)
@bp.response(200, schemas.DropSchema)
def drop_unsold(args: dict[str, Any], clan_id: int, drop_id: int) -> dict[str, Any]:
    """The listing ran out without a buyer: the item is back with its holder."""
    drops.mark_unsold(db.session, api_user_id(), clan_id, drop_id, args["version"])
    return _after(clan_id, drop_id)


@bp.post("/clans/<int:clan_id>/drops/<int:drop_id>/storage")
@bp.doc(parameters=[KEY_PARAMETER])
@idempotent
@bp.arguments(schemas.DropActionArgs)
@bp.response(200, schemas.DropSchema)
def drop_storage(args: dict[str, Any], clan_id: int, drop_id: int) -> dict[str, Any]:
    """Put the item into clan storage (no diamonds move)."""
    drops.store_drop(db.session, api_user_id(), clan_id, drop_id, args["version"])
    return _after(clan_id, drop_id)


@bp.post("/clans/<int:clan_id>/drops/<int:drop_id>/sale")
@bp.doc(parameters=[KEY_PARAMETER])
@idempotent
@bp.arguments(schemas.SellArgs)
@bp.response(200, schemas.DropSchema)
def drop_sale(args: dict[str, Any], clan_id: int, drop_id: int) -> dict[str, Any]:
    """The listed item sold on the exchange: its diamonds are split among the kill's roll
    call and the fund, at the fee and cut in force on the day it sold."""
    sales.record_sale(
        db.session,
        api_user_id(),
        clan_id,
        drop_id,
        received=args["received"],
        gross_price=args["gross_price"],
        sold_at=args["sold_at"],
        expected_version=args["version"],
    )
    return _after(clan_id, drop_id)


@bp.post("/clans/<int:clan_id>/drops/<int:drop_id>/purchase")
@bp.doc(parameters=[KEY_PARAMETER])
@idempotent
@bp.arguments(schemas.PurchaseArgs)
@bp.response(200, schemas.DropSchema)
def drop_purchase(args: dict[str, Any], clan_id: int, drop_id: int) -> dict[str, Any]:
    """A member's character buys the item from the clan at ``price``, with no exchange fee."""
    sales.record_internal_purchase(
        db.session,
        api_user_id(),
        clan_id,
        drop_id,
        buyer_character_id=args["buyer_character_id"],
        price=args["price"],
        expected_version=args["version"],
    )
    return _after(clan_id, drop_id)
