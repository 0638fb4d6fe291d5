"""Security headers and safe redirects.

* A Content-Security-Policy that allows only this origin's scripts, styles and fonts
  (Bootstrap is served locally; no CDN is ever needed). Inline ``style=""`` attributes are
  allowed (progress bars, chart sizes) but inline ``<script>`` and ``<style>`` blocks are not.
* ``X-Content-Type-Options``, ``Referrer-Policy`` and ``X-Frame-Options`` on every response.
* :func:`safe_next_url` keeps ``?next=`` redirects on this site.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
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


def init_app(app: Flask) -> None:
    """Install the response headers."""
    app.after_request(_add_headers)
