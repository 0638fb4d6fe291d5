"""Read resources: the token's user, their clans, a clan's members, characters and bosses.

Each view calls the same service as the web page, with the token's user: the service checks
the membership (404 outside the clan) and the role, exactly as for the page.
"""

from __future__ import annotations

from typing import Any

from flask import g

from clanledger.api import schemas
from clanledger.api.auth import api_user_id
from clanledger.api.blueprint import bp
from clanledger.api.paging import page
from clanledger.extensions import db
from clanledger.models import MembershipStatus
from clanledger.services import api_tokens, authz, bosses, characters, clans, memberships


@bp.get("/me")
@bp.response(200, schemas.MeSchema)
def me() -> dict[str, Any]:
    """The token's user and the token itself."""
    user = api_tokens.token_owner(db.session, g.api_token)
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "token": g.api_token,
    }


@bp.get("/clans")
@bp.arguments(schemas.PageArgs, location="query")
@bp.response(200, schemas.ClanPage)
def clan_list(args: dict[str, Any]) -> dict[str, Any]:
    """The clans the user is an active member of, in the reader's name order."""
    rows = [
        {
            "id": row.clan.id,
            "name": row.clan.name,
            "server": row.clan.server,
            "timezone": row.clan.timezone,
            "role": row.membership.role.value,
            "member_count": row.member_count,
        }
        for row in clans.my_clans(db.session, api_user_id())
        if row.membership.status == MembershipStatus.ACTIVE
    ]
    return page("clans", rows, args["cursor"], args["limit"])


@bp.get("/clans/<int:clan_id>")
@bp.response(200, schemas.ClanSchema)
def clan_detail(clan_id: int) -> dict[str, Any]:
    """One clan of the user (404 for any other)."""
    membership = authz.active_membership(db.session, api_user_id(), clan_id)
    clan = membership.clan
    counts = {row.clan.id: row.member_count for row in clans.my_clans(db.session, api_user_id())}
    return {
        "id": clan.id,
        "name": clan.name,
        "server": clan.server,
        "timezone": clan.timezone,
        "role": membership.role.value,
        "member_count": counts.get(clan.id),
    }


@bp.get("/clans/<int:clan_id>/members")
@bp.arguments(schemas.PageArgs, location="query")
@bp.response(200, schemas.MemberPage)
def member_list(args: dict[str, Any], clan_id: int) -> dict[str, Any]:
    """Active members (leader, officers, members); officers also get the join requests
    (``pending``) and the removed members, as on the members page."""
    grouped = memberships.list_members(db.session, api_user_id(), clan_id)
    rows = [
        {
            "membership_id": row.membership.id,
            "user_id": row.user.id,
            "display_name": row.user.display_name,
            "role": row.membership.role.value,
            "status": row.membership.status.value,
            "joined_at": row.membership.joined_at,
            "characters": row.characters,
        }
        for status in grouped
        for row in grouped[status]
    ]
    return page("members", rows, args["cursor"], args["limit"])


@bp.get("/clans/<int:clan_id>/characters")
@bp.arguments(schemas.PageArgs, location="query")
@bp.response(200, schemas.CharacterPage)
def character_list(args: dict[str, Any], clan_id: int) -> dict[str, Any]:
    """Every character of the clan, active ones first, with its owner when claimed."""
    rows = [
        {
            "id": row.character.id,
            "name": row.character.name,
            "char_class": row.character.char_class,
            "active": row.character.active,
            "owner_user_id": row.owner.id if row.owner else None,
            "owner_display_name": row.owner.display_name if row.owner else None,
        }
        for row in characters.list_characters(db.session, api_user_id(), clan_id)
    ]
    return page("characters", rows, args["cursor"], args["limit"])


@bp.get("/clans/<int:clan_id>/bosses")
@bp.arguments(schemas.PageArgs, location="query")
@bp.response(200, schemas.BossPage)
def boss_list(args: dict[str, Any], clan_id: int) -> dict[str, Any]:
    """The clan's active bosses in the reader's name order."""
    rows = bosses.list_bosses(db.session, api_user_id(), clan_id)
    return page("bosses", rows, args["cursor"], args["limit"])
