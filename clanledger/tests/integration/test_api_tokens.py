"""The account's API tokens page: make a token (shown once), use it, revoke it."""

from __future__ import annotations

import re

import pytest

from clanledger.extensions import db
from clanledger.models import ApiToken
from clanledger.services import api_tokens
from clanledger.services.errors import ValidationError


def _secret(html: str) -> str:
    found = re.search(r'id="new-token">(clt_[A-Za-z0-9_-]+)<', html)
    assert found, "the new token is shown"
    return found[1]


def test_a_token_is_shown_once_works_and_stops_when_revoked(client, make_user, login):
    user = make_user()
    login(user)
    made = client.post("/account/tokens", data={"name": "LINE bot", "scope": "read", "days": "30"})
    assert made.status_code == 200
    secret = _secret(made.get_data(True))
    again = client.get("/account/tokens").get_data(True)
    assert secret not in again and "LINE bot" in again and secret[:8] in again
    api = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200 and api.get_json()["token"]["scope"] == "read"
    token = db.session.query(ApiToken).filter_by(user_id=user.id).one()
    revoked = client.post(f"/account/tokens/{token.id}/revoke", follow_redirects=True)
    assert revoked.status_code == 200
    assert "<tbody>" not in revoked.get_data(True)  # no live token left to list
    api = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401


def test_nobody_revokes_another_users_token(client, make_user, login):
    owner, other = make_user(), make_user()
    token, secret = api_tokens.create_token(db.session, owner.id, "bot", "write", None)
    login(other)
    client.post(f"/account/tokens/{token.id}/revoke")
    db.session.refresh(token)
    assert token.revoked_at is None
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "scope": "read", "days": "30"}, "name"),
        ({"name": "x" * 65, "scope": "read", "days": "30"}, "name"),
        ({"name": "bot", "scope": "admin", "days": "30"}, "scope"),
        ({"name": "bot", "scope": "read", "days": "7"}, "days"),
        ({"name": "bot", "scope": "read", "days": "NaN"}, "days"),
    ],
)
def test_bad_token_forms_are_400(client, make_user, login, data, field):
    login(make_user())
    response = client.post("/account/tokens", data=data)
    assert response.status_code == 400
    assert "clt_" not in response.get_data(True)
    assert db.session.query(ApiToken).count() == 0


def test_the_service_refuses_what_the_form_would(make_user):
    user = make_user()
    for name, scope, days in (
        ("\u200bbot\u200b", "read", None),
        ("bot", "x", 1),
        ("bot", "read", 0),
    ):
        with pytest.raises(ValidationError):
            api_tokens.create_token(db.session, user.id, name, scope, days)
    for n in range(api_tokens.MAX_TOKENS):
        api_tokens.create_token(db.session, user.id, f"bot {n}", "read", 366)
    with pytest.raises(ValidationError, match="tokens already"):
        api_tokens.create_token(db.session, user.id, "one more", "read", None)
