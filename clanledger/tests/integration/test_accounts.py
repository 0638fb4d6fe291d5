"""Accounts: registration, sign-in with remember-me, sign-out, password change and the
leader's one-time reset links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from clanledger.extensions import db
from clanledger.models import AuditLog, PasswordResetToken, Role, User
from clanledger.models.types import utcnow
from clanledger.services import accounts, history
from clanledger.services.errors import NotFound, PermissionDenied, ValidationError

NEW_PASSWORD = "a brand new secret"


def _register(client, username="amin", password="long enough 1", confirm=None, **extra):
    data = {
        "username": username,
        "display_name": extra.pop("display_name", "阿明"),
        "password": password,
        "confirm": confirm or password,
        **extra,
    }
    return client.post("/auth/register", data=data)


def test_register_signs_in_and_hashes_with_the_configured_method(app, client):
    response = _register(client)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    user = db.session.execute(select(User).where(User.username == "amin")).scalar_one()
    assert user.password_hash.startswith("pbkdf2:sha256:1$")  # the cheap test method
    assert check_password_hash(user.password_hash, "long enough 1")
    assert user.locale == "zh_Hant"  # the language the page was shown in
    assert "我的血盟" in client.get("/").get_data(as_text=True)  # signed in, in Chinese


def test_production_default_hash_is_scrypt(app):
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    assert accounts.hash_password("whatever 123").startswith("scrypt:")


@pytest.mark.parametrize(
    ("fields", "field_id", "message", "status"),
    [
        # The account service refuses the username: 409; the form's own checks: 400.
        ({"username": "a b"}, "username", "請使用 3 到 32 個英文字母", 409),
        (
            {"password": "short", "confirm": "short"},
            "password",
            "欄位長度必須介於 8 和 200 個字元之間",
            400,
        ),
        ({"confirm": "something else"}, "confirm", "兩次輸入的密碼不一致", 400),
    ],
)
def test_register_shows_each_error_under_its_field(client, fields, field_id, message, status):
    response = _register(client, **fields)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    feedback = html.split(f'id="{field_id}-feedback"', 1)[1].split("</div>\n  </div>", 1)[0]
    assert message in feedback
    assert db.session.execute(select(User)).first() is None


def test_usernames_are_unique_without_regard_to_case(client, make_user):
    make_user("Amin")
    response = _register(client, username="amin")
    assert "這個帳號名稱已被使用" in response.get_data(as_text=True)
    with pytest.raises(ValidationError, match="taken"):
        accounts.register_user(db.session, "AMIN", "x", "long enough 1")


def test_login_with_remember_me_sets_a_lasting_cookie(client, make_user, user_password):
    make_user("lee")
    response = client.post(
        "/auth/login", data={"username": "LEE", "password": user_password, "remember": "y"}
    )
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    remember = next(c for c in cookies if c.startswith("remember_token="))
    assert "HttpOnly" in remember and "SameSite=Lax" in remember and "Expires=" in remember


def test_login_without_remember_me_sets_no_remember_cookie(client, make_user, user_password):
    make_user("lee")
    response = client.post("/auth/login", data={"username": "lee", "password": user_password})
    assert response.status_code == 302
    assert not any(c.startswith("remember_token=") for c in response.headers.getlist("Set-Cookie"))


def test_wrong_password_is_refused_with_one_message(client, make_user):
    make_user("lee")
    for username in ("lee", "nobody"):
        response = client.post("/auth/login", data={"username": username, "password": "nope"})
        assert response.status_code == 401  # the same for an unknown user and a wrong password
        assert "帳號或密碼錯誤" in response.get_data(as_text=True)
    assert client.get("/auth/password").status_code == 302  # still signed out


def test_logout_signs_out(client, make_user, login):
    login(make_user())
    assert client.get("/auth/password").status_code == 200
    assert client.post("/auth/logout").status_code == 302
    assert client.get("/auth/password").status_code == 302


def test_change_password_checks_the_current_one(client, make_user, login, user_password):
    user = make_user()
    login(user)
    wrong = client.post(
        "/auth/password",
        data={"current_password": "wrong", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert "目前的密碼不正確" in wrong.get_data(as_text=True)
    right = client.post(
        "/auth/password",
        data={
            "current_password": user_password,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert right.status_code == 302
    db.session.refresh(user)
    assert accounts.authenticate(db.session, user.username, NEW_PASSWORD) == user
    assert accounts.authenticate(db.session, user.username, user_password) is None


@pytest.fixture
def clan_with_member(make_user, make_clan, add_member):
    leader, officer, member = make_user("leader"), make_user("officer"), make_user("member")
    clan = make_clan(leader)
    add_member(clan, officer, Role.OFFICER)
    add_member(clan, member)
    return clan, leader, officer, member


def test_reset_link_works_once(client, clan_with_member):
    clan, leader, _officer, member = clan_with_member
    token = accounts.create_reset_link(db.session, leader.id, clan.id, member.id)
    stored = db.session.execute(select(PasswordResetToken)).scalar_one()
    assert stored.token_hash == accounts.hash_token(token) and token not in stored.token_hash
    page = client.get(f"/auth/reset/{token}")
    assert page.status_code == 200 and "member" in page.get_data(as_text=True)
    data = {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert client.post(f"/auth/reset/{token}", data=data).status_code == 302
    assert accounts.authenticate(db.session, "member", NEW_PASSWORD) is not None
    again = client.post(f"/auth/reset/{token}", data={"new_password": "x" * 9, "confirm": "x" * 9})
    assert again.status_code == 404
    assert accounts.authenticate(db.session, "member", NEW_PASSWORD) is not None


def test_reset_link_expires(client, clan_with_member):
    clan, leader, _officer, member = clan_with_member
    token = accounts.create_reset_link(db.session, leader.id, clan.id, member.id, hours=1)
    row = db.session.execute(select(PasswordResetToken)).scalar_one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(f"/auth/reset/{token}").status_code == 404
    with pytest.raises(NotFound):
        accounts.reset_password(db.session, token, NEW_PASSWORD)


def test_a_new_reset_link_cancels_the_previous_one(clan_with_member):
    clan, leader, _officer, member = clan_with_member
    first = accounts.create_reset_link(db.session, leader.id, clan.id, member.id)
    second = accounts.create_reset_link(db.session, leader.id, clan.id, member.id)
    with pytest.raises(NotFound):
        accounts.check_reset_token(db.session, first)
    assert accounts.check_reset_token(db.session, second).id == member.id


def test_only_the_leader_makes_reset_links_and_only_for_own_members(
    clan_with_member, make_user, make_clan
):
    clan, _leader, officer, member = clan_with_member
    with pytest.raises(PermissionDenied):
        accounts.create_reset_link(db.session, officer.id, clan.id, member.id)
    stranger_leader = make_user()
    other = make_clan(stranger_leader)
    with pytest.raises(NotFound):  # a member of another clan
        accounts.create_reset_link(db.session, stranger_leader.id, other.id, member.id)
    with pytest.raises(NotFound):  # another clan's leader acting on this clan
        accounts.create_reset_link(db.session, stranger_leader.id, clan.id, member.id)


def test_leader_gets_the_link_from_the_members_page(client, login, clan_with_member):
    clan, leader, _officer, member = clan_with_member
    login(leader)
    membership_id = next(m.id for m in member.memberships if m.clan_id == clan.id)
    response = client.post(f"/clans/{clan.id}/members/{membership_id}/reset-link")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "/auth/reset/" in html
    token = html.split("/auth/reset/", 1)[1].split('"', 1)[0]
    assert accounts.check_reset_token(db.session, token).id == member.id


def test_weak_new_password_keeps_the_link_usable(clan_with_member):
    clan, leader, _officer, member = clan_with_member
    token = accounts.create_reset_link(db.session, leader.id, clan.id, member.id)
    with pytest.raises(ValidationError):
        accounts.reset_password(db.session, token, "short")
    assert accounts.check_reset_token(db.session, token).id == member.id


def test_reset_links_are_audited_without_their_secret(clan_with_member):
    clan, leader, _officer, member = clan_with_member
    token = accounts.create_reset_link(db.session, leader.id, clan.id, member.id)
    accounts.reset_password(db.session, token, NEW_PASSWORD)
    rows = db.session.execute(
        select(AuditLog).where(AuditLog.entity_type == "PasswordResetToken").order_by(AuditLog.id)
    ).scalars()
    trail = [(r.action, r.actor_id) for r in rows]
    assert trail == [("create", leader.id), ("update", member.id)]
    entries = history.audit_page(db.session, leader.id, clan.id).entries
    shown = {c.field: c.after for e in entries for c in e.changes}
    assert shown["token_hash"] == history.REDACTED and token not in str(shown)


def test_a_new_password_signs_other_devices_out(app, client, make_user, user_password):
    user = make_user("lee")
    phone, laptop = app.test_client(), client
    for device in (phone, laptop):
        device.post(
            "/auth/login", data={"username": "lee", "password": user_password, "remember": "y"}
        )
        assert device.get("/auth/password").status_code == 200
    laptop.post(
        "/auth/password",
        data={
            "current_password": user_password,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert laptop.get("/auth/password").status_code == 200  # still signed in here
    assert phone.get("/auth/password").status_code == 302  # session and remember cookie void
    assert user.get_id().startswith(f"{user.id}:")
