"""Months (periods) and the close preview of one (officers), through the same services as
the close pages. Closing a month is left to the page, where its confirmation is shown."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext

from clanledger.api import schemas
from clanledger.api.auth import api_user_id
from clanledger.api.blueprint import bp
from clanledger.api.paging import page
from clanledger.api.statements import period_summary
from clanledger.extensions import db
from clanledger.services import close, periods


@bp.get("/clans/<int:clan_id>/periods")
@bp.arguments(schemas.PageArgs, location="query")
@bp.response(200, schemas.PeriodPage)
def period_list(args: dict[str, Any], clan_id: int) -> dict[str, Any]:
    """Every month of the clan, newest first, with its entries and outstanding transfers."""
    rows = [
        {
            **period_summary(row.period),
            "entries": row.entries,
            "outstanding_transfers": row.outstanding,
        }
        for row in periods.list_periods(db.session, api_user_id(), clan_id)
    ]
    return page("periods", rows, args["cursor"], args["limit"])


@bp.get("/clans/<int:clan_id>/periods/<int:period_id>/preview")
@bp.response(200, schemas.PreviewSchema)
def period_preview(clan_id: int, period_id: int) -> dict[str, Any]:
    """What closing the month now would plan (or, once closed, the plan confirmed): every
    balance, the transfers with their fees, and the proven fewest transfers."""
    preview = close.preview_close(db.session, api_user_id(), clan_id, period_id)
    return {
        "period": period_summary(preview.period),
        "closed": preview.closed,
        "fee_bps": preview.rate.bps,
        "fee_policy": preview.policy.value,
        "carry_threshold": preview.threshold,
        "fund_balance": preview.fund_balance,
        "sales": preview.sales,
        "lower_bound": preview.lower_bound,
        "problems": [gettext(problem) for problem in preview.problems],
        "balances": [
            {
                "kind": line.account.kind.value,
                "character_id": line.account.id,
                "name": line.name,
                "balance": line.balance,
                "committed": line.committed,
                "carried": line.carried,
                "netting": line.netting,
                "to_settle": line.to_settle,
            }
            for line in preview.lines
        ],
        "transfers": [
            {
                "seq": t.seq,
                "payer_character_id": t.payer_id,
                "payer": t.payer,
                "receiver_character_id": t.receiver_id,
                "receiver": t.receiver,
                "gross": t.gross,
                "fee": t.fee,
                "net": t.net,
                "status": t.status.value,
                "transfer_id": t.transfer_id,
            }
            for t in preview.transfers
        ],
    }
