"""``flask --app clanledger`` commands."""

from __future__ import annotations

import click
from flask import Flask

from clanledger.extensions import db


def register_commands(app: Flask) -> None:
    @app.cli.command("init-db")
    def init_db() -> None:
        """Create every table that does not exist yet."""
        db.create_all()
        click.echo("database ready")
