"""API statements and balances: each member their own, officers every character's; the
amounts match the ledger and add up to zero with the fund."""

from __future__ import annotations

import pytest

from clanledger.extensions import db
from clanledger.models import EntryKind, Role
from clanledger.models.types import utcnow
from clanledger.services import api_tokens
from clanledger.services.journal import PostingLine, post_entry

PROBLEM = "application/problem+json"


@pytest.fixture
def world(make_user, make_clan, add_member, make_character):
    leader, officer, member, outsider = (make_user() for _ in range(4))
    clan = make_clan(leader=leader)
    away = make_clan(leader=outsider)
    add_member(clan, officer, Role.OFFICER)
    add_member(clan, member)
    star, moon = (
        make_character(clan, member, name="星辰"),
        make_character(clan, officer, name="月影"),
    )
    entry = post_entry(
        db.session,
        clan,
        kind=EntryKind.ADJUSTMENT,
        lines=[PostingLine("member", star.id, -1200), PostingLine("member", moon.id, 1200)],
        occurred_at=utcnow(),
        actor_id=leader.id,
        reason="test",
    )
    db.session.commit()
    away_entry = post_entry(
        db.session,
        away,
        kind=EntryKind.ADJUSTMENT,
        lines=[
            PostingLine("member", make_character(away, outsider).id, -5),
            PostingLine("member", make_character(away, outsider).id, 5),
        ],
        occurred_at=utcnow(),
        actor_id=outsider.id,
        reason="test",
    )
    db.session.commit()
    users = {"leader": leader, "officer": officer, "member": member, "outsider": outsider}
    tokens = {
        role: api_tokens.create_token(db.session, user.id, "bot", "read", None)[1]
        for role, user in users.items()
    }
    return {
        "clan": clan,
        "tokens": tokens,
        "star": star,
        "moon": moon,
        "period": entry.period_id,
        "away_period": away_entry.period_id,
    }


def _get(client, world, role, path):
    headers = {"Authorization": f"Bearer {world['tokens'][role]}", "Accept-Language": "en"}
    return client.get(f"/api/v1/clans/{world['clan'].id}{path}", headers=headers)


def test_a_member_reads_their_own_statement(client, world):
    body = _get(client, world, "member", "/statement").get_json()
    assert body["balance"] == -1200
    assert [(c["name"], c["balance"]) for c in body["characters"]] == [("星辰", -1200)]
    assert [(line["amount"], line["running"]) for line in body["items"]] == [(-1200, -1200)]
    assert body["period"]["id"] == world["period"] and body["period"]["status"] == "open"
    officers = _get(client, world, "officer", "/statement").get_json()
    assert officers["balance"] == 1200


@pytest.mark.parametrize(("role", "status"), [("member", 403), ("officer", 200), ("leader", 200)])
def test_another_characters_statement_and_the_balances_are_for_officers(
    client, world, role, status
):
    other = _get(client, world, role, f"/statement?character_id={world['moon'].id}")
    assert other.status_code == (200 if role != "member" else 403)
    listed = _get(client, world, role, "/balances")
    assert listed.status_code == status
    if status == 200:
        body = listed.get_json()
        balances = {row["name"]: row["balance"] for row in body["items"]}
        assert balances == {"星辰": -1200, "月影": 1200}
        assert sum(balances.values()) + body["fund"] == 0
    else:
        assert listed.content_type == PROBLEM


def test_an_outsider_and_another_clans_month_get_404(client, world):
    assert _get(client, world, "outsider", "/statement").status_code == 404
    assert _get(client, world, "outsider", "/balances").status_code == 404
    response = _get(client, world, "leader", f"/balances?period_id={world['away_period']}")
    assert response.status_code == 404 and response.content_type == PROBLEM


@pytest.mark.parametrize(
    "target",
    [
        "/statement?period_id=0",
        "/balances?period_id=2147483648",
        "/statement?character_id=abc",
        "/statement?character_id=99999999999999999999",
        "/balances?period_id=NaN",
        "/balances?period_id=1e400",
    ],
)
def test_bad_statement_queries_are_problems(client, world, target):
    response = _get(client, world, "leader", target)
    assert 400 <= response.status_code < 500, response.status_code
    assert response.content_type == PROBLEM


@pytest.mark.parametrize(("role", "status"), [("member", 403), ("officer", 200), ("leader", 200)])
def test_officers_read_the_months_and_the_close_preview(client, world, role, status):
    listed = _get(client, world, role, "/periods")
    assert listed.status_code == status
    preview = _get(client, world, role, f"/periods/{world['period']}/preview")
    assert preview.status_code == status
    if status != 200:
        assert preview.content_type == PROBLEM
        return
    months = listed.get_json()["items"]
    assert [(m["id"], m["entries"], m["status"]) for m in months] == [(world["period"], 1, "open")]
    body = preview.get_json()
    assert body["closed"] is False
    settle = {b["name"]: b["to_settle"] for b in body["balances"] if b["kind"] == "member"}
    assert settle == {"星辰": -1200, "月影": 1200}
    [transfer] = body["transfers"]
    assert (transfer["payer"], transfer["receiver"], transfer["net"]) == ("星辰", "月影", 1200)
    assert transfer["gross"] - transfer["fee"] == transfer["net"]  # the payer bears the fee
    assert body["lower_bound"] == 1


def test_another_clans_month_has_no_preview(client, world):
    response = _get(client, world, "leader", f"/periods/{world['away_period']}/preview")
    assert response.status_code == 404 and response.content_type == PROBLEM
    assert _get(client, world, "outsider", f"/periods/{world['period']}/preview").status_code == 404
