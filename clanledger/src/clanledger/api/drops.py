"""Items that dropped: the list (oldest first, by state) and one item with its sale, through
the same services as the items pages."""

from __future__ import annotations

from typing import Any

from clanledger.api import schemas
from clanledger.api.auth import api_user_id
from clanledger.api.blueprint import bp
from clanledger.api.paging import decode_cursor, encode_cursor
from clanledger.extensions import db
from clanledger.models import Drop, DropStatus
from clanledger.services import drops


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
