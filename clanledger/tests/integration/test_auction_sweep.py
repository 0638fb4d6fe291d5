"""What the permission and fuzz sweeps need for the auction routes: a running auction of
a clan, and a held item to open one on (see ``sweep.py``)."""

from __future__ import annotations

from datetime import timedelta

from sweep import ClanSide, sample
from test_loot_sweep import a_kill

from clanledger.extensions import db
from clanledger.models.types import utcnow
from clanledger.services import auctions, drops


def _held_drop(side: ClanSide) -> int:
    """Held by the plain member's character (so the member may open an auction on it)."""
    return drops.record_drop(
        db.session,
        side.leader.id,
        side.clan.id,
        kill_id=a_kill(side),
        name="Sword",
        holder_character_id=side.characters["member"].id,
    ).id


@sample("drop_id", endpoints=("auctions.open_auction",))
def a_held_drop(side: ClanSide) -> int:
    return _held_drop(side)


@sample("auction_id")
def a_running_auction(side: ClanSide) -> int:
    return auctions.open_auction(
        db.session,
        side.leader.id,
        side.clan.id,
        _held_drop(side),
        start_price=100,
        increment=10,
        ends_at=utcnow() + timedelta(days=1),
    ).id
