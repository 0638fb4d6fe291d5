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
    tokens |= {
        f"{role}+w": api_tokens.create_token(db.session, user.id, "bot", "write", None)[1]
        for role, user in users.items()
    }
    return {"clan": clan, "away": away, "tokens": tokens, "items": items, "knight": knight}


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


def _post(client, world, role, path, body=None, key=None, data=None):
    headers = {"Authorization": f"Bearer {world['tokens'][role]}", "Accept-Language": "en"}
    if key:
        headers["Idempotency-Key"] = key
    url = f"/api/v1/clans/{world['clan'].id}{path}"
    if data is not None:
        return client.post(url, headers=headers, data=data, content_type="application/json")
    return client.post(url, headers=headers, json=body if body is not None else {})


def test_an_item_is_listed_and_sold_and_the_ledger_balances(client, world):
    item = world["items"][0].id
    listed = _post(client, world, "member+w", f"/drops/{item}/listing", {"asking_price": 1000})
    assert listed.status_code == 200, listed.get_data(True)
    assert (listed.get_json()["status"], listed.get_json()["asking_price"]) == ("listed", 1000)
    body = {"received": 950, "version": listed.get_json()["version"]}
    sold = _post(client, world, "member+w", f"/drops/{item}/sale", body, key="sale-1")
    assert sold.status_code == 200, sold.get_data(True)
    assert sold.get_json()["status"] == "sold"
    assert (sold.get_json()["sale"]["received"], sold.get_json()["sale"]["gross_price"]) == (
        950,
        1000,
    )
    again = _post(client, world, "member+w", f"/drops/{item}/sale", body, key="sale-1")
    assert again.get_json() == sold.get_json()
    twice = _post(client, world, "member+w", f"/drops/{item}/sale", {"received": 950})
    assert twice.status_code == 409 and twice.content_type == PROBLEM
    balances = client.get(
        f"/api/v1/clans/{world['clan'].id}/balances",
        headers={"Authorization": f"Bearer {world['tokens']['officer']}"},
    ).get_json()
    total = sum(row["balance"] for row in balances["items"]) + balances["fund"]
    assert total == 0


def test_unsold_storage_and_internal_purchase(client, world):
    first, second = world["items"][0].id, world["items"][1].id
    _post(client, world, "officer+w", f"/drops/{first}/listing", {"asking_price": 500})
    unsold = _post(client, world, "officer+w", f"/drops/{first}/unsold")
    assert unsold.get_json()["status"] == "unsold"
    stored = _post(client, world, "leader+w", f"/drops/{first}/storage")
    assert stored.get_json()["status"] == "stored"
    body = {"buyer_character_id": world["knight"].id, "price": 300}
    bought = _post(client, world, "officer+w", f"/drops/{second}/purchase", body)
    assert bought.status_code == 200, bought.get_data(True)
    assert (bought.get_json()["status"], bought.get_json()["sale"]["kind"]) == (
        "bought",
        "internal",
    )


def test_item_actions_need_a_write_token_and_the_clan(client, world):
    item = world["items"][0].id
    read = _post(client, world, "leader", f"/drops/{item}/storage")
    assert read.status_code == 403 and read.content_type == PROBLEM
    outsider = _post(client, world, "outsider+w", f"/drops/{item}/storage")
    assert outsider.status_code == 404
    stale = _post(client, world, "leader+w", f"/drops/{item}/storage", {"version": 99})
    assert stale.status_code == 409
    assert db.session.get(type(world["items"][0]), item).status.value == "held"


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("listing", '{"asking_price": "1000"}'),
        ("listing", '{"asking_price": NaN}'),
        ("listing", '{"asking_price": 10000000000000000}'),
        ("listing", '{"asking_price": -1}'),
        ("listing", "{}"),
        ("sale", '{"received": 1.5}'),
        ("sale", '{"received": 10, "sold_at": "2026-01-01T00:00:00"}'),
        ("purchase", '{"buyer_character_id": 2147483648, "price": 5}'),
        ("purchase", '{"buyer_character_id": 1}'),
        ("storage", '{"version": "x"}'),
        ("unsold", "{broken"),
    ],
)
def test_bad_item_action_bodies_are_problems(client, world, action, data):
    item = world["items"][0].id
    response = _post(client, world, "leader+w", f"/drops/{item}/{action}", data=data)
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(True))
    assert response.content_type == PROBLEM
