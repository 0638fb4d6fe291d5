"""Statements (a member's running balance in a month) and the clan's balances (officers),
through the same services as the statement and balances pages."""

from __future__ import annotations

from typing import Any

from clanledger.api import schemas
from clanledger.api.auth import api_user_id
from clanledger.api.blueprint import bp
from clanledger.api.paging import page
from clanledger.extensions import db
from clanledger.models import Period
from clanledger.services import balances, statements


def period_summary(period: Period) -> dict[str, Any]:
    return {
        "id": period.id,
        "month": f"{period.starts_on:%Y-%m}",
        "starts_on": period.starts_on,
        "ends_on": period.ends_on,
        "status": getattr(period.status, "value", period.status or "open"),
    }


@bp.get("/clans/<int:clan_id>/statement")
@bp.arguments(schemas.StatementArgs, location="query")
@bp.response(200, schemas.StatementSchema)
def statement(args: dict[str, Any], clan_id: int) -> dict[str, Any]:
    """Your characters' (or one character's) balance in a month and its lines, oldest first,
    each with the running balance. Amounts are whole diamonds."""
    found = statements.statement(
        db.session, api_user_id(), clan_id, args["character_id"], args["period_id"]
    )
    lines = [
        {
            "entry_id": line.entry_id,
            "occurred_at": line.occurred_at,
            "kind": str(getattr(line.kind, "value", line.kind)),
            "role": line.role,
            "character_id": line.character_id,
            "amount": line.amount,
            "running": line.running,
            "memo": line.memo,
            "reason": line.reason,
        }
        for line in found.lines
    ]
    characters = [
        {"character_id": c.id, "name": c.name, "balance": found.by_character.get(c.id, 0)}
        for c in found.characters
    ]
    summary = {
        "period": period_summary(found.period),
        "balance": found.balance,
        "opening": found.opening,
        "credits": found.credits,
        "debits": found.debits,
        "characters": characters,
    }
    return {**summary, **page("statement", lines, args["cursor"], args["limit"])}


@bp.get("/clans/<int:clan_id>/balances")
@bp.arguments(schemas.PeriodArgs, location="query")
@bp.response(200, schemas.BalancesSchema)
def balance_list(args: dict[str, Any], clan_id: int) -> dict[str, Any]:
    """Every character's balance in a month, largest debt first, and the fund (officers)."""
    overview = balances.balances_overview(db.session, api_user_id(), clan_id, args["period_id"])
    rows = [
        {
            "character_id": row.character.id,
            "name": row.character.name,
            "owner_display_name": row.owner_name,
            "balance": row.balance,
        }
        for row in overview.rows
    ]
    listed = page("balances", rows, args["cursor"], args["limit"])
    return {"period": period_summary(overview.period), "fund": overview.fund, **listed}
