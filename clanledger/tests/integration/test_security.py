"""Security baseline: CSRF, open redirects, login rate limit (memory and Redis), headers,
cookie flags and the production secret-key check."""

from __future__ import annotations

import re
import socket
import uuid

import pytest
from flask import Flask

from clanledger import create_app
from clanledger.config import DEV_SECRET_KEY, InsecureConfigError
from clanledger.extensions import db, limiter
from clanledger.models import Membership, Role
from clanledger.security import CONTENT_SECURITY_POLICY, safe_next_url
from clanledger.services import memberships


def _csrf_token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def test_post_without_csrf_token_is_rejected(app, client, make_user, make_clan, login):
    app.config["WTF_CSRF_ENABLED"] = True
    leader, newcomer = make_user(), make_user("newcomer")
    clan = make_clan(leader)
    request = memberships.request_join(db.session, newcomer.id, clan.invite_code)
    login(leader)
    url = f"/clans/{clan.id}/members/{request.id}/approve"
    refused = client.post(url)
    assert refused.status_code == 400
    assert "表單已過期或來源不明" in refused.get_data(as_text=True)
    db.session.refresh(request)
    assert request.status == "pending"
    token = _csrf_token(client, f"/clans/{clan.id}/members")
    assert client.post(url, data={"csrf_token": token}).status_code == 302
    db.session.refresh(request)
    assert request.status == "active"


def test_login_form_needs_the_csrf_token(app, client, make_user, user_password):
    app.config["WTF_CSRF_ENABLED"] = True
    make_user("lee")
    data = {"username": "lee", "password": user_password}
    assert client.post("/auth/login", data=data).status_code == 400
    data["csrf_token"] = _csrf_token(client, "/auth/login")
    assert client.post("/auth/login", data=data).status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        " //evil.example",
    ],
)
def test_next_parameter_never_leaves_the_site(client, make_user, target, user_password):
    make_user("lee")
    response = client.post(
        "/auth/login", data={"username": "lee", "password": user_password, "next": target}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert safe_next_url(target) is None
    language = client.post("/lang", data={"locale": "en", "next": target})
    assert language.headers["Location"] == "/"


def test_next_parameter_keeps_local_paths(client, make_user, login, user_password):
    make_user("lee")
    response = client.post(
        "/auth/login",
        data={"username": "lee", "password": user_password, "next": "/clans/3/members?x=1"},
    )
    assert response.headers["Location"] == "/clans/3/members?x=1"
    # Flask-Login puts the page asked for in ?next= and the form carries it through.
    client.post("/auth/logout")
    bounced = client.get("/auth/password")
    assert bounced.headers["Location"] == "/auth/login?next=%2Fauth%2Fpassword"


PASSWORD = "rate limited 123"


def _limited_app(tmp_path, **config) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'limit.sqlite3'}",
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
            "RATELIMIT_ENABLED": True,
            "LOGIN_RATE_LIMIT": "3 per minute",
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            **config,
        }
    )
    with app.app_context():
        db.create_all()
        from werkzeug.security import generate_password_hash

        from clanledger.models import User

        db.session.add(
            User(
                username="lee",
                display_name="lee",
                password_hash=generate_password_hash(PASSWORD, "pbkdf2:sha256:1"),
            )
        )
        db.session.commit()
    return app


def _hammer(app: Flask) -> list[int]:
    client = app.test_client()
    ok = {"username": "lee", "password": PASSWORD}
    statuses = [client.post("/auth/login", data=ok).status_code]  # a success does not count
    client.post("/auth/logout")
    bad = {"username": "lee", "password": "wrong"}
    statuses += [client.post("/auth/login", data=bad).status_code for _ in range(4)]
    statuses.append(client.post("/auth/login", data=ok).status_code)  # blocked too
    statuses.append(client.get("/auth/login").status_code)  # only POSTs are limited
    return statuses


def test_login_attempts_are_rate_limited_in_memory(tmp_path):
    app = _limited_app(tmp_path)
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    statuses = _hammer(app)
    assert statuses == [302, 401, 401, 401, 429, 429, 200]
    blocked = app.test_client().post("/auth/login", data={"username": "lee", "password": "x"})
    assert blocked.status_code == 429 and blocked.headers["Retry-After"].isdigit()
    assert "嘗試次數過多" in blocked.get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()


def _redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _redis_reachable(), reason="no Redis on 127.0.0.1:6379")
def test_login_rate_limit_uses_redis_when_redis_url_is_set(tmp_path):
    app = _limited_app(tmp_path, REDIS_URL="redis://127.0.0.1:6379/0")
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    with app.app_context():
        assert type(limiter.storage).__name__ == "RedisStorage"
    assert _hammer(app) == [302, 401, 401, 401, 429, 429, 200]
    with app.app_context():
        limiter.reset()  # leave nothing behind in the shared Redis
        db.engine.dispose()


def test_security_headers(client):
    response = client.get("/auth/login")
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    html = response.get_data(as_text=True)
    assert "cdn" not in html.lower() and "<script>" not in html  # local assets, no inline JS


def test_session_cookie_flags(client):
    cookie = client.get("/auth/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_cookies_are_secure_behind_https(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SECRET_KEY": "t",
            "PREFERRED_URL_SCHEME": "https",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    cookie = (
        app.test_client().get("/auth/login", base_url="https://localhost").headers["Set-Cookie"]
    )
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_refuses_the_development_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setattr("clanledger.config._instance_secret", lambda app: None)
    with pytest.raises(InsecureConfigError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with pytest.raises(InsecureConfigError):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": DEV_SECRET_KEY})
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "DEBUG": True}).debug
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True}).testing
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-from-the-environment")
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).secret_key.startswith("a-real")


def test_roles_are_enforced_in_the_services(make_user, make_clan, add_member):
    leader, member, outsider = make_user(), make_user(), make_user()
    clan = make_clan(leader)
    target = add_member(clan, make_user())
    add_member(clan, member)
    from clanledger.services.errors import NotFound, PermissionDenied

    with pytest.raises(PermissionDenied):
        memberships.remove_member(db.session, member.id, clan.id, target.id)
    with pytest.raises(NotFound):
        memberships.remove_member(db.session, outsider.id, clan.id, target.id)
    assert db.session.get(Membership, target.id).status == "active"
    assert db.session.get(Membership, target.id).role == Role.MEMBER
