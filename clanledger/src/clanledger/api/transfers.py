"""Month-end transfers: the list (members see their own, officers every one), marking one
paid and confirming it received, through the same services as the transfers page."""

from __future__ import annotations

from typing import Any

from clanledger.api import schemas
from clanledger.api.auth import api_user_id
from clanledger.api.blueprint import bp
from clanledger.api.idempotency import KEY_PARAMETER, idempotent
from clanledger.api.paging import page
from clanledger.extensions import db
from clanledger.models import Transfer
from clanledger.services import transfers


def _shown(transfer: Transfer, payer: str, receiver: str, month: str) -> dict[str, Any]:
    return {
        "id": transfer.id,
        "period_id": transfer.period_id,
        "month": month,
        "payer": payer,
        "payer_character_id": transfer.payer_character_id,
        "receiver": receiver,
        "receiver_character_id": transfer.receiver_character_id,
        "gross": transfer.gross,
        "fee": transfer.fee,
        "net": transfer.net,
        "paid_gross": transfer.paid_gross,
        "status": transfer.status.value,
        "paid_at": transfer.paid_at,
        "confirmed_at": transfer.confirmed_at,
    }


def _one(clan_id: int, transfer_id: int) -> dict[str, Any]:
    row = transfers.transfer_row(db.session, api_user_id(), clan_id, transfer_id)
    return _shown(row.transfer, row.payer, row.receiver, f"{row.period.starts_on:%Y-%m}")


@bp.get("/clans/<int:clan_id>/transfers")
@bp.arguments(schemas.TransferArgs, location="query")
@bp.response(200, schemas.TransferPage)
def transfer_list(args: dict[str, Any], clan_id: int) -> dict[str, Any]:
    """Transfers newest month first: a member's own, every one for officers."""
    rows = transfers.list_transfers(
        db.session,
        api_user_id(),
        clan_id,
        outstanding_only=args["status"] == "outstanding",
        mine_only=args["mine"],
    )
    shown = [_shown(r.transfer, r.payer, r.receiver, f"{r.period.starts_on:%Y-%m}") for r in rows]
    return page("transfers", shown, args["cursor"], args["limit"])


@bp.post("/clans/<int:clan_id>/transfers/<int:transfer_id>/paid")
@bp.doc(parameters=[KEY_PARAMETER])
@idempotent
@bp.arguments(schemas.PaidArgs)
@bp.response(200, schemas.TransferSchema)
def transfer_paid(args: dict[str, Any], clan_id: int, transfer_id: int) -> dict[str, Any]:
    """The payer bought the receiver's listing (``paid_gross``, default the planned gross).
    Needs a read-write token; send an ``Idempotency-Key`` to retry safely."""
    transfers.mark_paid(db.session, api_user_id(), clan_id, transfer_id, args["paid_gross"])
    return _one(clan_id, transfer_id)


@bp.post("/clans/<int:clan_id>/transfers/<int:transfer_id>/confirm")
@bp.doc(parameters=[KEY_PARAMETER])
@idempotent
@bp.arguments(schemas.ConfirmArgs)
@bp.response(200, schemas.TransferSchema)
def transfer_confirm(args: dict[str, Any], clan_id: int, transfer_id: int) -> dict[str, Any]:
    """The receiver got the diamonds: the transfer is posted to the ledger. Who may confirm
    is the same rule as on the page. Needs a read-write token; send an ``Idempotency-Key``."""
    transfers.confirm_received(db.session, api_user_id(), clan_id, transfer_id, args["reason"])
    return _one(clan_id, transfer_id)
