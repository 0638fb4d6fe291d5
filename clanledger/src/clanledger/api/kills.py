"""Boss kills with their roll call: the list, one kill, and recording one (officers), through
the same services as the kills pages."""

from __future__ import annotations

from typing import Any

from clanledger.api import schemas
from clanledger.api.auth import api_user_id
from clanledger.api.blueprint import bp
from clanledger.api.idempotency import KEY_PARAMETER, idempotent
from clanledger.api.paging import decode_cursor, encode_cursor
from clanledger.extensions import db
from clanledger.models import Kill
from clanledger.services import kills


def _shown(kill: Kill) -> dict[str, Any]:
    return {
        "id": kill.id,
        "boss_id": kill.boss_id,
        "boss": kill.boss.name,
        "killed_at": kill.killed_at,
        "note": kill.note,
        "caller_character_id": kill.caller_character_id,
        "checkin_until": kill.checkin_until,
        "rollcall_locked_at": kill.rollcall_locked_at,
        "attendance": [
            {"character_id": a.character_id, "weight": str(a.weight)}
            for a in sorted(kill.attendance, key=lambda a: a.character_id)
        ],
        "drop_ids": sorted(d.id for d in kill.drops),
    }


@bp.get("/clans/<int:clan_id>/kills")
@bp.arguments(schemas.PageArgs, location="query")
@bp.response(200, schemas.KillPage)
def kill_list(args: dict[str, Any], clan_id: int) -> dict[str, Any]:
    """The clan's kills, newest first, each with its roll call and drops."""
    start, limit = decode_cursor("kills", args["cursor"]), args["limit"]
    found = kills.list_kills(db.session, api_user_id(), clan_id, limit=limit + 1, offset=start)
    return {
        "items": [_shown(k) for k in found[:limit]],
        "next_cursor": encode_cursor("kills", start + limit) if len(found) > limit else None,
    }


@bp.get("/clans/<int:clan_id>/kills/<int:kill_id>")
@bp.response(200, schemas.KillSchema)
def kill_detail(clan_id: int, kill_id: int) -> dict[str, Any]:
    """One kill with its roll call (weights as fractions, e.g. ``1/2``) and drops."""
    return _shown(kills.get_kill(db.session, api_user_id(), clan_id, kill_id))


@bp.post("/clans/<int:clan_id>/kills")
@bp.doc(parameters=[KEY_PARAMETER])
@idempotent
@bp.arguments(schemas.NewKillSchema)
@bp.response(201, schemas.KillSchema)
def kill_create(args: dict[str, Any], clan_id: int) -> dict[str, Any]:
    """Record a kill with its roll call (officers; a read-write token). Members may check
    in later with the kill's code on the kill page."""
    kill = kills.record_kill(
        db.session,
        api_user_id(),
        clan_id,
        boss_id=args["boss_id"],
        killed_at=args["killed_at"],
        participants={p["character_id"]: p["weight"] for p in args["participants"]},
        caller_character_id=args["caller_character_id"],
        note=args["note"],
    )
    return _shown(kills.get_kill(db.session, api_user_id(), clan_id, kill.id))
