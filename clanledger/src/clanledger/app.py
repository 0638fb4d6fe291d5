"""The Flask application factory: every piece of wiring, called by name."""

from __future__ import annotations

from typing import Any

from flask import Flask

from clanledger import api, i18n, security
from clanledger.cli import register_commands
from clanledger.config import load_config
from clanledger.extensions import init_extensions
from clanledger.services.audit import install_audit_listeners
from clanledger.services.periods import install_closed_period_guard
from clanledger.sqlite import install_sqlite_write_discipline
from clanledger.web import register_blueprints


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application; every piece of wiring is called here by name.

    Args:
        config: overrides applied after the defaults and the environment (tests pass
            ``{"TESTING": True, "SQLALCHEMY_DATABASE_URI": ...}``).
    """
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, config)
    init_extensions(app)
    install_sqlite_write_discipline(app)  # BEGIN IMMEDIATE, busy timeout
    i18n.init_app(app)  # Babel selectors, template filters, WTForms catalogues
    security.init_app(app)  # headers, user loader, password hash method
    install_audit_listeners()
    install_closed_period_guard()
    register_blueprints(app)
    api.init_app(app)  # /api/v1: tokens, problem details, OpenAPI
    register_commands(app)
    return app
