"""API kills: every role reads them, officers record one (idempotently), bad bodies are
problems."""

from __future__ import annotations

import pytest

from clanledger.extensions import db
from clanledger.models import Boss, Kill, Role
from clanledger.services import api_tokens

PROBLEM = "application/problem+json"


@pytest.fixture
def world(make_user, make_clan, add_member, make_character):
    leader, officer, member, outsider = (make_user() for _ in range(4))
    clan = make_clan(leader=leader)
    away = make_clan(leader=outsider)
    add_member(clan, officer, Role.OFFICER)
    add_member(clan, member)
    knight, mage = make_character(clan, member, name="星辰"), make_character(clan, officer)
    stranger = make_character(away, outsider)
    boss, away_boss = Boss(clan_id=clan.id, name="巨大鱷魚"), Boss(clan_id=away.id, name="X")
    db.session.add_all([boss, away_boss])
    db.session.commit()
    users = {"leader": leader, "officer": officer, "member": member, "outsider": outsider}
    tokens = {
        role: api_tokens.create_token(db.session, user.id, "bot", "write", None)[1]
        for role, user in users.items()
    }
    return {
        "clan": clan,
        "away": away,
        "tokens": tokens,
        "boss": boss,
        "away_boss": away_boss,
        "knight": knight,
        "mage": mage,
        "stranger": stranger,
    }


def _kill(world, **overrides):
    body = {
        "boss_id": world["boss"].id,
        "killed_at": "2026-12-01T21:00:00+08:00",
        "participants": [
            {"character_id": world["knight"].id, "weight": "1"},
            {"character_id": world["mage"].id, "weight": "1/2"},
        ],
        "caller_character_id": world["mage"].id,
        "note": "api",
    }
    return {**body, **overrides}


def _post(client, world, role, body, key=None, data=None):
    headers = {"Authorization": f"Bearer {world['tokens'][role]}", "Accept-Language": "en"}
    if key:
        headers["Idempotency-Key"] = key
    url = f"/api/v1/clans/{world['clan'].id}/kills"
    if data is not None:
        return client.post(url, headers=headers, data=data, content_type="application/json")
    return client.post(url, headers=headers, json=body)


@pytest.mark.parametrize(("role", "status"), [("leader", 201), ("officer", 201), ("member", 403)])
def test_officers_record_kills_members_may_not(client, world, role, status):
    response = _post(client, world, role, _kill(world))
    assert response.status_code == status, response.get_data(True)
    if status == 201:
        kill = response.get_json()
        assert kill["boss"] == "巨大鱷魚"
        assert {(a["character_id"], a["weight"]) for a in kill["attendance"]} == {
            (world["knight"].id, "1"),
            (world["mage"].id, "1/2"),
        }
    else:
        assert response.content_type == PROBLEM
        assert db.session.query(Kill).count() == 0


def test_every_role_reads_kills_and_an_outsider_none(client, world):
    made = _post(client, world, "officer", _kill(world)).get_json()
    clan = world["clan"].id
    for role in ("leader", "officer", "member"):
        headers = {"Authorization": f"Bearer {world['tokens'][role]}"}
        listed = client.get(f"/api/v1/clans/{clan}/kills", headers=headers).get_json()
        assert [k["id"] for k in listed["items"]] == [made["id"]]
        one = client.get(f"/api/v1/clans/{clan}/kills/{made['id']}", headers=headers)
        assert one.get_json() == made
    outsider = {"Authorization": f"Bearer {world['tokens']['outsider']}"}
    assert client.get(f"/api/v1/clans/{clan}/kills", headers=outsider).status_code == 404
    away = world["away"].id
    leader = {"Authorization": f"Bearer {world['tokens']['leader']}"}
    assert client.get(f"/api/v1/clans/{away}/kills/{made['id']}", headers=leader).status_code == 404


def test_kills_page_newest_first(client, world):
    for day in (1, 2, 3):
        body = _kill(world, killed_at=f"2026-11-0{day}T21:00:00+08:00")
        assert _post(client, world, "leader", body).status_code == 201
    headers = {"Authorization": f"Bearer {world['tokens']['member']}"}
    url = f"/api/v1/clans/{world['clan'].id}/kills?limit=2"
    first = client.get(url, headers=headers).get_json()
    second = client.get(f"{url}&cursor={first['next_cursor']}", headers=headers).get_json()
    days = [k["killed_at"][:10] for k in first["items"] + second["items"]]
    assert days == ["2026-11-03", "2026-11-02", "2026-11-01"]
    assert second["next_cursor"] is None


def test_a_retried_kill_is_recorded_once(client, world):
    first = _post(client, world, "officer", _kill(world), key="kill-1")
    retry = _post(client, world, "officer", _kill(world), key="kill-1")
    assert first.status_code == retry.status_code == 201
    assert retry.get_json() == first.get_json()
    assert db.session.query(Kill).count() == 1
    changed = _post(client, world, "officer", _kill(world, note="other"), key="kill-1")
    assert changed.status_code == 422
    assert db.session.query(Kill).count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"boss_id": "1"},
        {"boss_id": 2**31},
        {"boss_id": None},
        {"killed_at": "2026-12-01T21:00:00"},  # no offset
        {"killed_at": "0001-01-01T00:00:00+00:00"},
        {"killed_at": "2999-01-01T00:00:00+00:00"},
        {"killed_at": "NaN"},
        {"participants": [{"character_id": 2**63, "weight": "1"}]},
        {"participants": [{"character_id": 1.5}]},
        {"participants": "all"},
        {"participants": [{"character_id": 1, "weight": "NaN"}]},
        {"participants": [{"character_id": 1, "weight": "1e309"}]},
        {"note": "x" * 201},
    ],
)
def test_bad_kills_are_problems_never_500(client, world, change):
    response = _post(client, world, "leader", _kill(world, **change))
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(True))
    assert response.content_type == PROBLEM
    assert db.session.query(Kill).count() == 0


def test_another_clans_boss_and_characters_are_refused(client, world):
    for change in (
        {"boss_id": world["away_boss"].id},
        {"participants": [{"character_id": world["stranger"].id, "weight": "1"}]},
    ):
        response = _post(client, world, "leader", _kill(world, caller_character_id=None, **change))
        assert response.status_code in (404, 422), response.get_data(True)
        assert response.content_type == PROBLEM
    duplicate = [{"character_id": world["knight"].id}, {"character_id": world["knight"].id}]
    response = _post(client, world, "leader", _kill(world, participants=duplicate))
    assert response.status_code == 422
    assert db.session.query(Kill).count() == 0


@pytest.mark.parametrize("data", ["{", "[]", '{"boss_id": NaN}', "null"])
def test_malformed_json_is_a_problem(client, world, data):
    response = _post(client, world, "leader", None, data=data)
    assert 400 <= response.status_code < 500
    assert response.content_type == PROBLEM
