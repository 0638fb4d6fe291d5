"""Odd values a user or a bot can type get a form error (4xx), never a server error, and
change nothing: dates outside the clan's history, NaN and infinities, numbers beyond the
columns, ids beyond their range, absurd page numbers."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select
from test_clans import FORM

from clanledger.extensions import db
from clanledger.models import ClanRate, Kill, Sale
from clanledger.services import bosses, drops, kills

SETTINGS = FORM  # a valid clan settings form (test_clans.py)


@pytest.fixture
def leader_clan(make_user, make_clan, make_character, login):
    leader = make_user("leader")
    leader.locale = "en"
    clan = make_clan(leader=leader)
    character = make_character(clan, leader, "Leader")
    boss = bosses.add_boss(db.session, leader.id, clan.id, "Antharas")
    login(leader)
    return clan, leader, character, boss


@pytest.mark.parametrize("moment", ["0001-01-01T00:00", "9999-12-31T23:59", "2062-01-01T10:00"])
def test_a_kill_outside_the_clans_history_is_a_form_error(leader_clan, client, moment):
    clan, _, character, boss = leader_clan
    response = client.post(
        f"/clans/{clan.id}/kills/new",
        data={"boss_id": boss.id, "killed_at": moment, "participants": [character.id],
              f"w-{character.id}": "1", "caller": 0},
    )  # fmt: skip
    assert response.status_code == 400
    assert b"Enter a date from" in response.data
    assert db.session.execute(select(func.count(Kill.id))).scalar_one() == 0


def test_a_sale_dated_year_one_is_a_form_error(leader_clan, client):
    clan, leader, character, boss = leader_clan
    kill = kills.record_kill(
        db.session, leader.id, clan.id, boss_id=boss.id, killed_at=datetime.now().astimezone(),
        participants={character.id: 1},
    )  # fmt: skip
    drop = drops.record_drop(
        db.session, leader.id, clan.id, kill_id=kill.id, name="Bow",
        holder_character_id=character.id,
    )  # fmt: skip
    drops.list_drop(db.session, leader.id, clan.id, drop.id, 1000)
    response = client.post(
        f"/clans/{clan.id}/drops/{drop.id}/sell",
        data={"gross_price": "1000", "received": "950", "sold_at": "0001-01-01T00:00"},
    )
    assert response.status_code == 400
    assert db.session.execute(select(func.count(Sale.id))).scalar_one() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("fee_percent", "sNaN"),
        ("fee_percent", "NaN"),
        ("fee_percent", "Infinity"),
        ("fund_percent", "-inf"),
        ("caller_bonus", "sNaN"),
        ("carry_threshold", "2147483648"),
        ("carry_threshold", "99999999999999999999"),
        ("checkin_window_minutes", "99999999999"),
        ("effective_from", "0001-01-01"),
    ],
)
def test_settings_refuse_values_beyond_numbers_and_columns(leader_clan, client, field, value):
    clan = leader_clan[0]
    before = db.session.execute(select(func.count(ClanRate.id))).scalar_one()
    response = client.post(f"/clans/{clan.id}/settings", data={**SETTINGS, field: value})
    assert response.status_code == 400, response.status_code
    assert f'id="{field}-feedback"'.encode() in response.data
    assert db.session.execute(select(func.count(ClanRate.id))).scalar_one() == before
    db.session.refresh(clan)
    assert clan.carry_threshold != 2147483648


def test_a_new_clan_with_a_signalling_nan_fee_is_a_form_error(make_user, login, client):
    login(make_user())
    response = client.post("/clans/new", data={**SETTINGS, "fee_percent": "sNaN"})
    assert response.status_code == 400


def test_ids_beyond_the_columns_and_absurd_pages(leader_clan, client):
    clan = leader_clan[0]
    assert client.get(f"/clans/{clan.id}/drops/2147483648").status_code == 404
    assert client.get("/clans/2147483648/").status_code == 404
    assert client.get(f"/clans/{clan.id}/kills?page=99999999999999999999").status_code == 200
    assert client.get(f"/clans/{clan.id}/audit?page=-3").status_code == 200
    assert client.get(f"/clans/{clan.id}/transfers?period=2147483648").status_code == 200
