"""API items: every role lists and reads them, filtered by state; nobody sees another clan's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clanledger.extensions import db
from clanledger.models import Boss, Role
from clanledger.services import api_tokens, drops, kills

PROBLEM = "application/problem+json"


@pytest.fixture
def world(make_user, make_clan, add_member, make_character):
    leader, officer, member, outsider = (make_user() for _ in range(4))
    clan = make_clan(leader=leader)
    away = make_clan(leader=outsider)
    add_member(clan, officer, Role.OFFICER)
    add_member(clan, member)
    knight = make_character(clan, member)
    boss = Boss(clan_id=clan.id, name="巨大鱷魚")
    db.session.add(boss)
    db.session.commit()
    kill = kills.record_kill(
        db.session,
        officer.id,
        clan.id,
        boss_id=boss.id,
        killed_at=datetime(2026, 12, 1, 13, tzinfo=UTC),
        participants={knight.id: "1"},
    )
    items = [
        drops.record_drop(
            db.session,
            officer.id,
            clan.id,
            kill_id=kill.id,
            name=name,
            holder_character_id=knight.id,
        )
        for name in ("屠龍劍", "藍色藥水", "古代盔甲")
    ]
    drops.store_drop(db.session, officer.id, clan.id, items[2].id)
    users = {"leader": leader, "officer": officer, "member": member, "outsider": outsider}
    tokens = {
        role: api_tokens.create_token(db.session, user.id, "bot", "read", None)[1]
        for role, user in users.items()
    }
    return {"clan": clan, "away": away, "tokens": tokens, "items": items}


def _get(client, world, role, path):
    headers = {"Authorization": f"Bearer {world['tokens'][role]}", "Accept-Language": "en"}
    return client.get(f"/api/v1/clans/{world['clan'].id}{path}", headers=headers)


@pytest.mark.parametrize("role", ["leader", "officer", "member"])
def test_every_role_lists_and_reads_items(client, world, role):
    listed = _get(client, world, role, "/drops?limit=2").get_json()
    rest = _get(client, world, role, f"/drops?limit=2&cursor={listed['next_cursor']}").get_json()
    names = [d["name"] for d in listed["items"] + rest["items"]]
    assert names == ["屠龍劍", "藍色藥水", "古代盔甲"] and rest["next_cursor"] is None
    stored = _get(client, world, role, "/drops?status=stored").get_json()["items"]
    assert [d["name"] for d in stored] == ["古代盔甲"]
    one = _get(client, world, role, f"/drops/{world['items'][0].id}").get_json()
    assert (one["boss"], one["status"], one["sale"]) == ("巨大鱷魚", "held", None)


def test_an_outsider_and_another_clans_url_get_404(client, world):
    item = world["items"][0].id
    assert _get(client, world, "outsider", "/drops").status_code == 404
    assert _get(client, world, "outsider", f"/drops/{item}").status_code == 404
    headers = {"Authorization": f"Bearer {world['tokens']['outsider']}"}
    mine_url = f"/api/v1/clans/{world['away'].id}/drops/{item}"
    response = client.get(mine_url, headers=headers)
    assert response.status_code == 404 and response.content_type == PROBLEM


@pytest.mark.parametrize(
    "query", ["status=gone", "status=%00", "limit=-1", "cursor=eyJsIjoia2lsbHMiLCJvIjoxfQ"]
)
def test_bad_item_queries_are_problems(client, world, query):
    response = _get(client, world, "member", f"/drops?{query}")
    assert 400 <= response.status_code < 500
    assert response.content_type == PROBLEM
