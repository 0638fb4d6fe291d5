"""clanledger: 血盟分鑽帳本, the loot and settlement ledger of a Lineage W blood pledge.

The domain (``clanledger.domain``) and the services import no web framework; the Flask
application is built by :func:`create_app` (``clanledger.app``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application (:func:`clanledger.app.create_app`)."""
    from clanledger.app import create_app as build  # heavy: Flask only when an app is built

    return build(config)
