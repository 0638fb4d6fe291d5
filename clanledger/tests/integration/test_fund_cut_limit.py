"""Finding 8: a 100 % clan-fund cut was accepted by the form and the service but not by the
domain, so the next sale was a 500. The limit lives in the domain (require_fund_cut); the
clan settings form and service both ask it, and sales go on at the rate in force."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from clanledger.extensions import db
from clanledger.models import Role
from clanledger.services import bosses, clans, kills, sales
from clanledger.services.drops import list_drop, record_drop
from clanledger.services.errors import ValidationError
from clanledger.services.rates import rates_on


def test_a_100_percent_fund_cut_is_refused_and_the_next_sale_works(
    client, login, make_user, make_clan, add_member, make_character
):
    leader, officer = make_user(), make_user()
    clan = make_clan(leader=leader)
    add_member(clan, officer, Role.OFFICER)
    chars = [make_character(clan, leader).id, make_character(clan).id]
    settings = clans.current_settings(db.session, clan)
    with pytest.raises(ValidationError) as refused:
        clans.update_settings(
            db.session, leader.id, clan.id, replace(settings, fund_cut_bps=10_000), date(2026, 5, 1)
        )
    db.session.rollback()
    assert refused.value.field == "fund_cut_bps"
    login(leader)
    page = client.post(
        f"/clans/{clan.id}/settings",
        data={
            "name": settings.name,
            "server": settings.server,
            "fee_percent": "5",
            "fund_percent": "100",
            "fee_policy": settings.fee_policy,
            "settlement_period": settings.settlement_period,
            "timezone": settings.timezone,
            "carry_threshold": "0",
            "caller_bonus": "0",
            "checkin_window_minutes": "30",
            "rollcall_lock_minutes": "120",
        },
    )
    assert page.status_code in (200, 400)
    assert "血盟基金抽成必須至少 0%，且低於 100%。" in page.get_data(as_text=True)
    assert rates_on(db.session, clan.id, date(2026, 5, 2)).fund_cut.bps == 1000

    when = datetime(2026, 5, 3, 4, tzinfo=UTC)
    boss = bosses.add_boss(db.session, officer.id, clan.id, "巴風特").id
    kill = kills.record_kill(
        db.session,
        officer.id,
        clan.id,
        boss_id=boss,
        killed_at=when,
        participants={c: "1" for c in chars},
        now=when,
    )
    drop = record_drop(
        db.session, officer.id, clan.id, kill_id=kill.id, name="劍", holder_character_id=chars[1]
    ).id
    list_drop(db.session, officer.id, clan.id, drop, asking_price=1000, now=when)
    sale = sales.record_sale(db.session, officer.id, clan.id, drop, received=950, now=when)
    assert (sale.fund_cut_bps, sale.received) == (1000, 950)
