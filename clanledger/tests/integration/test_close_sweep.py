"""What the permission sweep needs for the close, transfer and export routes (see
``sweep.py``): a period with entries, transfers between the side's characters."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from flask import current_app
from PIL import Image
from sweep import ClanSide, sample

from clanledger.extensions import db
from clanledger.models import EntryKind, Transfer
from clanledger.models.types import utcnow
from clanledger.services.journal import PostingLine, post_entry
from clanledger.services.periods import period_for_day


def _period(side: ClanSide) -> int:
    """The current month with one adjustment between the member and the officer."""
    if "period" not in side.extras:
        member, officer = side.characters["member"].id, side.characters["officer"].id
        entry = post_entry(
            db.session,
            side.clan,
            kind=EntryKind.ADJUSTMENT,
            lines=[PostingLine("member", member, -100), PostingLine("member", officer, 100)],
            occurred_at=utcnow(),
            actor_id=side.leader.id,
            reason="sweep",
        )
        db.session.commit()
        side.extras["period"] = entry.period_id
    return int(side.extras["period"])  # type: ignore[arg-type]


@sample("period_id")
def a_period(side: ClanSide) -> int:
    return _period(side)


def _transfer(side: ClanSide, payer: str, receiver: str, screenshot: str | None = None) -> int:
    period = period_for_day(db.session, side.clan, date(2020, 1, 1))
    transfer = Transfer(
        clan_id=side.clan.id,
        period_id=period.id,
        seq=1 + len([k for k in side.extras if k.startswith("transfer")]),
        payer_character_id=side.characters[payer].id,
        receiver_character_id=side.characters[receiver].id,
        net=95,
        gross=100,
        fee=5,
        fee_bps=500,
        screenshot=screenshot,
    )
    db.session.add(transfer)
    db.session.commit()
    side.extras[f"transfer{transfer.id}"] = transfer.id
    return transfer.id


@sample("transfer_id")
def a_transfer_the_member_pays(side: ClanSide) -> int:
    return _transfer(side, "member", "leader")


@sample("transfer_id", endpoints=("transfers.confirm",))
def a_transfer_the_member_receives(side: ClanSide) -> int:
    return _transfer(side, "leader", "member")


@sample("transfer_id", endpoints=("transfers.screenshot",))
def a_paid_transfer_with_screenshot(side: ClanSide) -> int:
    name = f"uploads/transfers/{side.clan.id}/sweep.png"
    path = Path(current_app.instance_path) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), "white").save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return _transfer(side, "member", "leader", screenshot=name)
