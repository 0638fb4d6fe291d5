"""API transfers: the list per role, mark paid and confirm with read-write tokens,
idempotent retries, and problem details for every bad body."""

from __future__ import annotations

from datetime import date

import pytest

from clanledger.extensions import db
from clanledger.models import Role, Transfer, TransferStatus
from clanledger.services import api_tokens
from clanledger.services.periods import period_for_day

PROBLEM = "application/problem+json"


@pytest.fixture
def world(make_user, make_clan, add_member, make_character):
    leader, officer, member, outsider = (make_user() for _ in range(4))
    clan = make_clan(leader=leader)
    away = make_clan(leader=outsider)
    add_member(clan, officer, Role.OFFICER)
    add_member(clan, member)
    chars = {
        u: make_character(clan, user)
        for u, user in (("leader", leader), ("officer", officer), ("member", member))
    }
    period = period_for_day(db.session, clan, date(2020, 1, 1))
    period_for_day(db.session, clan, date(2020, 2, 1))  # where confirmed transfers are posted
    db.session.commit()

    def transfer(payer: str, receiver: str, seq: int) -> Transfer:
        row = Transfer(
            clan_id=clan.id,
            period_id=period.id,
            seq=seq,
            payer_character_id=chars[payer].id,
            receiver_character_id=chars[receiver].id,
            net=950,
            gross=1000,
            fee=50,
            fee_bps=500,
        )
        db.session.add(row)
        db.session.commit()
        return row

    users = {"leader": leader, "officer": officer, "member": member, "outsider": outsider}
    tokens = {
        (role, scope): api_tokens.create_token(db.session, user.id, "bot", scope, None)[1]
        for role, user in users.items()
        for scope in ("read", "write")
    }
    return {
        "clan": clan,
        "away": away,
        "tokens": tokens,
        "member_pays": transfer("member", "leader", 1),
        "officer_pays": transfer("officer", "leader", 2),
        "member_receives": transfer("leader", "member", 3),
    }


def _call(client, method, url, secret, json=None, key=None, data=None):
    headers = {"Authorization": f"Bearer {secret}", "Accept-Language": "en"}
    if key:
        headers["Idempotency-Key"] = key
    if data is not None:
        return client.open(
            url, method=method, headers=headers, data=data, content_type="application/json"
        )
    return client.open(url, method=method, headers=headers, json=json)


@pytest.mark.parametrize(("role", "seen"), [("leader", 3), ("officer", 3), ("member", 2)])
def test_members_list_their_own_transfers_officers_every_one(client, world, role, seen):
    url = f"/api/v1/clans/{world['clan'].id}/transfers"
    body = _call(client, "GET", url, world["tokens"][(role, "read")]).get_json()
    assert len(body["items"]) == seen
    first = body["items"][0]
    assert (first["gross"], first["fee"], first["net"]) == (1000, 50, 950)
    assert all(isinstance(t["gross"], int) for t in body["items"])
    away = f"/api/v1/clans/{world['away'].id}/transfers"
    assert _call(client, "GET", away, world["tokens"][(role, "read")]).status_code == 404


@pytest.mark.parametrize(("role", "status"), [("member", 200), ("officer", 200), ("leader", 200)])
def test_each_role_marks_paid_as_on_the_page(client, world, role, status):
    """The payer marks their own; officers and the leader act for any player."""
    url = f"/api/v1/clans/{world['clan'].id}/transfers/{world['member_pays'].id}/paid"
    response = _call(client, "POST", url, world["tokens"][(role, "write")], json={})
    assert response.status_code == status, response.get_data(True)
    assert response.get_json()["status"] == "paid"
    assert response.get_json()["paid_gross"] == 1000


def test_a_member_cannot_act_for_another_player(client, world):
    url = f"/api/v1/clans/{world['clan'].id}/transfers/{world['officer_pays'].id}/paid"
    response = _call(client, "POST", url, world["tokens"][("member", "write")], json={})
    assert response.status_code in (403, 404)
    assert response.content_type == PROBLEM
    assert db.session.get(Transfer, world["officer_pays"].id).status == TransferStatus.PLANNED


def test_foreign_clan_and_read_tokens_cannot_write(client, world):
    transfer = world["member_pays"].id
    url = f"/api/v1/clans/{world['clan'].id}/transfers/{transfer}/paid"
    read = _call(client, "POST", url, world["tokens"][("leader", "read")], json={})
    assert read.status_code == 403 and read.content_type == PROBLEM
    outsider = _call(client, "POST", url, world["tokens"][("outsider", "write")], json={})
    assert outsider.status_code == 404
    wrong_clan = f"/api/v1/clans/{world['away'].id}/transfers/{transfer}/paid"
    leader = _call(client, "POST", wrong_clan, world["tokens"][("leader", "write")], json={})
    assert leader.status_code == 404
    assert db.session.get(Transfer, transfer).status == TransferStatus.PLANNED


def test_a_retry_with_the_same_key_gets_the_first_answer(client, world):
    url = f"/api/v1/clans/{world['clan'].id}/transfers/{world['member_receives'].id}/confirm"
    secret = world["tokens"][("member", "write")]
    first = _call(client, "POST", url, secret, json={}, key="confirm-42")
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["status"] == "confirmed"
    retry = _call(client, "POST", url, secret, json={}, key="confirm-42")
    assert retry.status_code == 200 and retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    other_body = _call(client, "POST", url, secret, json={"reason": "x"}, key="confirm-42")
    assert other_body.status_code == 422 and other_body.content_type == PROBLEM
    no_key = _call(client, "POST", url, secret, json={})
    assert no_key.status_code == 409  # without a key, a second confirm is refused
    assert "already confirmed" in no_key.get_json()["detail"]


def test_keys_belong_to_one_route_and_token(client, world):
    clan = world["clan"].id
    paid = f"/api/v1/clans/{clan}/transfers/{world['member_pays'].id}/paid"
    other = f"/api/v1/clans/{clan}/transfers/{world['officer_pays'].id}/paid"
    leader = world["tokens"][("leader", "write")]
    assert _call(client, "POST", paid, leader, json={}, key="k").status_code == 200
    second = _call(client, "POST", other, leader, json={}, key="k")
    assert second.status_code == 200
    assert second.get_json()["id"] == world["officer_pays"].id


@pytest.mark.parametrize(
    "data",
    [
        "{not json",
        '{"paid_gross": "1000"}',
        '{"paid_gross": 1.5}',
        '{"paid_gross": NaN}',
        '{"paid_gross": Infinity}',
        '{"paid_gross": 0}',
        '{"paid_gross": -5}',
        '{"paid_gross": 99999999999999999999999}',
        '{"paid_gross": true}',
        "[1, 2]",
        '"text"',
    ],
)
def test_bad_bodies_are_problems_never_500(client, world, data):
    url = f"/api/v1/clans/{world['clan'].id}/transfers/{world['member_pays'].id}/paid"
    response = _call(client, "POST", url, world["tokens"][("member", "write")], data=data)
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(True))
    assert response.content_type == PROBLEM
    assert db.session.get(Transfer, world["member_pays"].id).status == TransferStatus.PLANNED


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "a b"])
def test_bad_idempotency_keys_are_422(client, world, key):
    url = f"/api/v1/clans/{world['clan'].id}/transfers/{world['member_pays'].id}/paid"
    headers = {
        "Authorization": f"Bearer {world['tokens'][('member', 'write')]}",
        "Idempotency-Key": key,
    }
    response = client.post(url, headers=headers, json={})
    assert response.status_code == 422 and response.content_type == PROBLEM


@pytest.mark.parametrize(
    "path", ["/transfers/2147483648/paid", "/transfers/99999999999999999999/confirm"]
)
def test_oversized_transfer_ids_are_404(client, world, path):
    url = f"/api/v1/clans/{world['clan'].id}{path}"
    response = _call(client, "POST", url, world["tokens"][("leader", "write")], json={})
    assert response.status_code == 404 and response.content_type == PROBLEM
