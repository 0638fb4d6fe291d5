"""Blueprints: parse the request, call one service, render or redirect.

:data:`BLUEPRINTS` lists every blueprint the app serves, in registration order.
"""

from __future__ import annotations

from flask import Blueprint, Flask

from clanledger.web import (
    audit,
    auth,
    characters,
    clans,
    close,
    dashboard,
    drops,
    exports,
    kills,
    main,
    statements,
    transfers,
)
from clanledger.web.scoping import register_error_handlers

BLUEPRINTS: tuple[Blueprint, ...] = (
    audit.bp,
    auth.bp,
    characters.bp,
    clans.bp,
    close.bp,
    dashboard.bp,
    drops.bp,
    exports.bp,
    kills.bp,
    main.bp,
    statements.bp,
    transfers.bp,
)


def register_blueprints(app: Flask) -> None:
    """Register :data:`BLUEPRINTS` and the error pages."""
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
    register_error_handlers(app)
