"""What the permission and fuzz sweeps need for the clan-chat routes: a webhook of a clan
(see ``sweep.py``)."""

from __future__ import annotations

from sweep import ClanSide, sample

from clanledger.extensions import db
from clanledger.services import notify


@sample("webhook_id")
def a_webhook(side: ClanSide) -> int:
    hook, _secret = notify.add_webhook(
        db.session,
        side.leader.id,
        side.clan.id,
        kind="discord",
        url="https://discord.com/api/webhooks/1/abc",
        events=["kill_recorded"],
        locale="zh_Hant",
    )
    return hook.id
