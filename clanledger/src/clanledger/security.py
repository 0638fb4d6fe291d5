"""Security headers and safe redirects.

* A Content-Security-Policy that allows only this origin's scripts, styles and fonts
  (Bootstrap is served locally; no CDN is ever needed). Inline ``style=""`` attributes are
  allowed (progress bars, chart sizes) but inline ``<script>`` and ``<style>`` blocks are not.
* ``X-Content-Type-Options``, ``Referrer-Policy`` and ``X-Frame-Options`` on every response.
* :func:`safe_next_url` keeps ``?next=`` redirects on this site.
* :func:`load_user`: Flask-Login's user loader; a session signed before the password
  changed no longer loads.
* The password hash method comes from ``PASSWORD_HASH_METHOD`` (see :func:`init_app`).
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, has_app_context, request

from clanledger.extensions import db, login_manager
from clanledger.models import User
from clanledger.services import accounts

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def safe_next_url(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else ``None``.

    Refuses absolute URLs to other hosts, scheme-relative ``//evil.example``, backslash
    tricks (``/\\evil.example``, which browsers treat as ``//``) and control characters.
    """
    if not target:
        return None
    if any(ord(ch) < 32 or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _add_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.scheme == "https":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def load_user(session_id: str) -> User | None:
    """The user of a session id ``"<user id>:<fingerprint>"``; ``None`` if unknown, or if
    the session was signed in before the password changed."""
    user_id, _, fingerprint = session_id.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not hmac.compare_digest(fingerprint, user.session_fingerprint):
        return None
    return user


def _password_hash_method() -> str:
    if not has_app_context():
        return accounts.DEFAULT_HASH_METHOD
    return current_app.config.get("PASSWORD_HASH_METHOD", accounts.DEFAULT_HASH_METHOD)


def init_app(app: Flask) -> None:
    """Install the response headers, the user loader and the password hash method."""
    app.after_request(_add_headers)
    login_manager.user_loader(load_user)
    accounts.use_hash_method(_password_hash_method)
