"""Blueprints: parse the request, call one service, render or redirect.

:data:`BLUEPRINTS` lists every blueprint the app serves, in registration order.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from werkzeug.routing import IntegerConverter

from clanledger.web import (
    auctions,
    audit,
    auth,
    book,
    characters,
    clans,
    close,
    dashboard,
    drops,
    exports,
    kills,
    main,
    notify,
    onboarding,
    plan,
    statements,
    tokens,
    transfers,
    trends,
    wallets,
)
from clanledger.web.params import MAX_ROW_ID, refuse_nul_characters
from clanledger.web.scoping import register_error_handlers

BLUEPRINTS: tuple[Blueprint, ...] = (
    audit.bp,
    auctions.bp,
    auth.bp,
    book.bp,
    characters.bp,
    clans.bp,
    close.bp,
    dashboard.bp,
    drops.bp,
    exports.bp,
    kills.bp,
    main.bp,
    notify.bp,
    onboarding.bp,
    plan.bp,
    statements.bp,
    tokens.bp,
    transfers.bp,
    trends.bp,
    wallets.bp,
)


class RowIdConverter(IntegerConverter):
    """Every ``<int:...>`` of a URL is a row id: 1 .. :data:`MAX_ROW_ID`. Anything else
    (``/drops/2147483648``) does not match the route, so it is a 404 before any query."""

    def __init__(self, map, fixed_digits: int = 0, min: int = 1, max: int = MAX_ROW_ID) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max)


def register_blueprints(app: Flask) -> None:
    """Register :data:`BLUEPRINTS` (their ``<int:...>`` are row ids, NUL characters are
    refused before any view) and the error pages."""
    app.url_map.converters["int"] = RowIdConverter
    app.before_request(refuse_nul_characters)
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
    register_error_handlers(app)
