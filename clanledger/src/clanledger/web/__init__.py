"""Blueprints: parse the request, call one service, render or redirect.

Every module in this package that defines a Blueprint named ``bp`` is registered.
"""

from __future__ import annotations

import importlib
import pkgutil

from flask import Blueprint, Flask


def register_blueprints(app: Flask) -> None:
    from clanledger.web.scoping import register_error_handlers

    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        bp = getattr(module, "bp", None)
        if isinstance(bp, Blueprint):
            app.register_blueprint(bp)
    register_error_handlers(app)
