"""Blueprints: parse the request, call one service, render or redirect."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from clanledger.web.main import bp as main_bp

    app.register_blueprint(main_bp)
