"""What the permission sweep needs for the loot routes: sample kills, bosses and items of a
clan, and the statuses that differ from the default (see ``sweep.py``)."""

from __future__ import annotations

from sweep import ClanSide, expect, sample

from clanledger.extensions import db
from clanledger.models.types import utcnow
from clanledger.services import bosses, drops, kills, sales


def _boss(side: ClanSide) -> int:
    if "boss" not in side.extras:
        side.extras["boss"] = bosses.add_boss(db.session, side.leader.id, side.clan.id, "Orfen").id
    return int(side.extras["boss"])  # type: ignore[arg-type]


@sample("boss_id")
def a_boss(side: ClanSide) -> int:
    return _boss(side)


@sample("kill_id")
def a_kill(side: ClanSide) -> int:
    """A kill with the side's three characters on the roll call."""
    if "kill" not in side.extras:
        kill = kills.record_kill(
            db.session,
            side.leader.id,
            side.clan.id,
            boss_id=_boss(side),
            killed_at=utcnow(),
            participants={c.id: 1 for c in side.characters.values()},
        )
        side.extras["kill"] = kill.id
    return int(side.extras["kill"])  # type: ignore[arg-type]


def _drop(side: ClanSide) -> int:
    return drops.record_drop(
        db.session,
        side.leader.id,
        side.clan.id,
        kill_id=a_kill(side),
        name="Ring",
        holder_character_id=side.characters["member"].id,
    ).id


@sample("drop_id")
def a_listed_drop(side: ClanSide) -> int:
    """Listed, held by the plain member's character (so the member may act on it)."""
    drop_id = _drop(side)
    drops.list_drop(db.session, side.leader.id, side.clan.id, drop_id, 1000)
    return drop_id


@sample("drop_id", endpoints=("drops.correct", "drops.void"))
def a_sold_drop(side: ClanSide) -> int:
    drop_id = a_listed_drop(side)
    sales.record_sale(db.session, side.leader.id, side.clan.id, drop_id, received=950)
    return drop_id


# The sample character is an unclaimed roster character: a plain member may not read its
# statement (officers read everyone's).
expect("statements.character", member=403)
expect("statements.explain", member=403)
