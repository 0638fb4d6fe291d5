"""clanledger: 血盟分鑽帳本, the loot and settlement ledger of a Lineage W blood pledge."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application.

    Args:
        config: overrides applied after the defaults and the environment (tests pass
            ``{"TESTING": True, "SQLALCHEMY_DATABASE_URI": ...}``).
    """
    from clanledger.config import load_config
    from clanledger.extensions import init_extensions
    from clanledger.web import register_blueprints

    app = Flask(__name__, instance_relative_config=True)
    load_config(app, config)
    init_extensions(app)
    register_blueprints(app)

    from clanledger.cli import register_commands

    register_commands(app)
    return app
