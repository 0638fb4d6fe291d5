"""The REST API: tokens, clan scoping and roles, paging, problem details, OpenAPI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from openapi_spec_validator import validate

from clanledger import create_app
from clanledger.extensions import db
from clanledger.models import ApiToken, Boss, Role
from clanledger.models.types import utcnow
from clanledger.services import api_tokens

PROBLEM = "application/problem+json"


@pytest.fixture
def world(make_user, make_clan, add_member, make_character):
    """A clan with a leader, an officer, a member (each with a token) and a join request;
    another clan whose leader is the outsider."""
    leader, officer, member, asking, outsider = (make_user() for _ in range(5))
    clan = make_clan(leader=leader, name="夜風血盟")
    add_member(clan, officer, Role.OFFICER)
    add_member(clan, member)
    add_member(clan, asking, status="pending")
    away = make_clan(leader=outsider, name="他盟")
    make_character(clan, member, name="星辰")
    make_character(away, outsider, name="外人")
    db.session.add_all([Boss(clan_id=clan.id, name="巨大鱷魚"), Boss(clan_id=away.id, name="X")])
    db.session.commit()
    users = {"leader": leader, "officer": officer, "member": member, "outsider": outsider}
    secrets = {
        role: api_tokens.create_token(db.session, user.id, "bot", "read", None)[1]
        for role, user in users.items()
    }
    return {"clan": clan, "away": away, "users": users, "secrets": secrets}


def _get(client, url: str, secret: str | None, lang: str = "en"):
    headers = {"Accept-Language": lang}
    if secret:
        headers["Authorization"] = f"Bearer {secret}"
    return client.get(url, headers=headers)


@pytest.mark.parametrize("role", ["leader", "officer", "member"])
@pytest.mark.parametrize("path", ["", "/members", "/characters", "/bosses"])
def test_every_role_reads_its_clan_and_nobody_reads_another(client, world, role, path):
    clan, away = world["clan"], world["away"]
    mine = _get(client, f"/api/v1/clans/{clan.id}{path}", world["secrets"][role])
    assert mine.status_code == 200, mine.get_data(True)
    assert mine.content_type == "application/json"
    other = _get(client, f"/api/v1/clans/{away.id}{path}", world["secrets"][role])
    assert other.status_code == 404
    assert other.content_type == PROBLEM
    assert "他盟" not in other.get_data(True)


def test_members_as_on_the_page_officers_also_see_requests(client, world):
    clan = world["clan"]
    url = f"/api/v1/clans/{clan.id}/members"
    member_view = _get(client, url, world["secrets"]["member"]).get_json()["items"]
    officer_view = _get(client, url, world["secrets"]["officer"]).get_json()["items"]
    assert {m["status"] for m in member_view} == {"active"}
    assert len(member_view) == 3
    assert {m["status"] for m in officer_view} == {"active", "pending"}
    assert member_view[0]["role"] == "leader"
    star = next(m for m in member_view if m["user_id"] == world["users"]["member"].id)
    assert [c["name"] for c in star["characters"]] == ["星辰"]


def test_clans_me_and_bosses(client, world):
    secret = world["secrets"]["officer"]
    clans = _get(client, "/api/v1/clans", secret).get_json()
    assert [(c["name"], c["role"], c["member_count"]) for c in clans["items"]] == [
        ("夜風血盟", "officer", 3)
    ]
    one = _get(client, f"/api/v1/clans/{world['clan'].id}", secret).get_json()
    assert (one["name"], one["role"], one["member_count"]) == ("夜風血盟", "officer", 3)
    me = _get(client, "/api/v1/me", secret).get_json()
    assert me["id"] == world["users"]["officer"].id
    assert me["token"] == {"name": "bot", "scope": "read", "personal": False, "expires_at": None}
    bosses = _get(client, f"/api/v1/clans/{world['clan'].id}/bosses", secret).get_json()
    assert [b["name"] for b in bosses["items"]] == ["巨大鱷魚"]


def test_lists_page_with_opaque_cursors(client, world, make_character):
    clan = world["clan"]
    for n in range(4):
        make_character(clan, name=f"角色{n}")
    url = f"/api/v1/clans/{clan.id}/characters"
    seen, cursor, pages = [], None, 0
    while True:
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        body = _get(client, url + query, world["secrets"]["member"]).get_json()
        assert len(body["items"]) <= 2
        seen += [c["name"] for c in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(["星辰", "角色0", "角色1", "角色2", "角色3"])
    members_cursor = _get(client, url.replace("characters", "members") + "?limit=1", None)
    assert members_cursor.status_code == 401


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=NaN",
        "limit=1e400",
        "limit=99999999999999999999",
        "limit=abc",
        "cursor=notacursor",
        "cursor=eyJsIjoiY2xhbnMiLCJvIjo1fQ",  # a cursor of the clans list
        "cursor=eyJsIjoiY2hhcmFjdGVycyIsIm8iOi0xfQ",  # a negative offset
        "cursor=" + "A" * 300,
    ],
)
def test_bad_query_values_are_422_problems_in_the_readers_language(client, world, query):
    url = f"/api/v1/clans/{world['clan'].id}/characters?{query}"
    english = _get(client, url, world["secrets"]["member"])
    assert english.status_code == 422
    assert english.content_type == PROBLEM
    body = english.get_json()
    assert body["status"] == 422 and set(body["errors"]) <= {"limit", "cursor"}
    chinese = _get(client, url, world["secrets"]["member"], lang="zh-Hant")
    assert chinese.get_json()["detail"] != body["detail"]
    assert chinese.get_json()["detail"].isascii() is False


@pytest.mark.parametrize(
    "path", ["/clans/2147483648", "/clans/99999999999999999999/members", "/clans/-1", "/nope"]
)
def test_oversized_ids_and_unknown_addresses_are_404_problems(client, world, path):
    response = _get(client, "/api/v1" + path, world["secrets"]["leader"])
    assert response.status_code == 404
    assert response.content_type == PROBLEM


def test_a_token_is_needed_and_cookies_do_not_count(client, world, login):
    url = f"/api/v1/clans/{world['clan'].id}"
    login(world["users"]["leader"])  # a signed-in browser session
    for headers in ({}, {"Authorization": "Bearer clt_wrong"}, {"Authorization": "Basic x"}):
        response = client.get(url, headers=headers)
        assert response.status_code == 401
        assert response.content_type == PROBLEM
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    response = client.get(url, headers={"Accept-Language": "zh-TW"})
    assert "Bearer" in response.get_json()["detail"] and not response.get_json()["title"].isascii()


def test_revoked_and_expired_tokens_are_refused(client, world):
    url = "/api/v1/me"
    secret = world["secrets"]["member"]
    user_id = world["users"]["member"].id
    assert _get(client, url, secret).status_code == 200
    token = db.session.query(ApiToken).filter_by(token_hash=api_tokens.hash_token(secret)).one()
    assert token.last_used_at is not None
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert _get(client, url, secret).status_code == 401
    token.expires_at = utcnow() + timedelta(days=1)
    db.session.commit()
    assert _get(client, url, secret).status_code == 200
    api_tokens.revoke_token(db.session, user_id, token.id)
    assert _get(client, url, secret).status_code == 401


def test_only_the_hash_is_stored(world):
    secret = world["secrets"]["leader"]
    assert secret.startswith("clt_") and len(secret) == 47
    stored = db.session.query(ApiToken).filter_by(user_id=world["users"]["leader"].id).one()
    assert secret not in (stored.token_hash, stored.hint, stored.name)
    assert stored.token_hash == api_tokens.hash_token(secret)


def test_openapi_document_validates(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "/api/v1/clans/{clan_id}/members" in document["paths"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "/api/v1/clans/{clan_id}/members" in page.get_data(True)
    assert "https://" not in page.get_data(True)  # nothing loaded from elsewhere


def test_each_token_has_its_rate_limit(tmp_path, server_database_url, make_user):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": server_database_url
            or f"sqlite:///{tmp_path / 'limits.sqlite3'}",
            "SECRET_KEY": "t",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "API_RATE_LIMIT": "3 per minute",
        }
    )
    with app.app_context():
        db.create_all()
        try:
            first, second = make_user(), make_user()
            one = api_tokens.create_token(db.session, first.id, "a", "read", 30)[1]
            two = api_tokens.create_token(db.session, second.id, "b", "read", 30)[1]
            client = app.test_client()
            statuses = [_get(client, "/api/v1/me", one).status_code for _ in range(4)]
            assert statuses == [200, 200, 200, 429]
            refused = _get(client, "/api/v1/me", one)
            assert refused.content_type == PROBLEM and "Retry-After" in refused.headers
            assert _get(client, "/api/v1/me", two).status_code == 200
        finally:
            db.session.remove()
            db.engine.dispose()


def test_a_wrong_method_and_a_form_body_are_problems(client, world):
    headers = {"Authorization": f"Bearer {world['secrets']['leader']}", "Accept-Language": "en"}
    wrong = client.delete("/api/v1/clans", headers=headers)
    assert wrong.status_code == 405 and wrong.content_type == PROBLEM
    assert "GET" in wrong.headers["Allow"]
    write = api_tokens.create_token(db.session, world["users"]["leader"].id, "w", "write", None)
    headers["Authorization"] = f"Bearer {write[1]}"
    form = client.post(
        f"/api/v1/clans/{world['clan'].id}/kills", headers=headers, data={"boss_id": "1"}
    )
    assert form.status_code == 422 and form.content_type == PROBLEM
    assert "boss_id" in form.get_json()["errors"]
