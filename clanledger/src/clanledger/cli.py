"""``flask --app clanledger`` commands: thin layers over importable functions."""

from __future__ import annotations

import time

import click
from flask import Flask, current_app
from flask_migrate import upgrade
from sqlalchemy.exc import SQLAlchemyError

from clanledger.close_cli import register_close_commands
from clanledger.extensions import db
from clanledger.services import auctions, delivery, demo
from clanledger.services.errors import ServiceError
from clanledger.services.notify import DeliveryPolicy


def register_commands(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(seed_demo)
    app.cli.add_command(settle_auctions)
    app.cli.add_command(deliver)
    register_close_commands(app)


@click.command("init-db")
def init_db() -> None:
    """Create or upgrade the schema (the same as `flask db upgrade`)."""
    upgrade()
    click.echo("database ready")


@click.command("seed-demo")
@click.option("--members", default=30, show_default=True, help="Accounts in the demo clan.")
@click.option(
    "--if-empty",
    is_flag=True,
    help="Only seed when the database has no users yet (first run of `make serve`).",
)
def seed_demo(members: int, if_empty: bool) -> None:
    """Create the demo clan 星辰血盟 (idempotent) and print a login to try."""
    # A database with real data and no demo clan is left alone.
    if (
        if_empty
        and not demo.database_is_empty(db.session)
        and demo.find_demo_clan(db.session) is None
    ):
        return
    if members < 2:
        raise click.BadParameter("the demo clan needs at least 2 members", param_hint="--members")
    try:
        result = demo.seed_demo(db.session, members=members)
    except ServiceError as error:
        raise click.ClickException(error.text) from error
    verb = "created" if result.created else "already exists"
    click.echo(
        f"Demo clan {demo.DEMO_CLAN} {verb}: {result.members} members, "
        f"{result.characters} characters."
    )
    if result.loot_summary:
        click.echo(result.loot_summary)
    click.echo(f"Sign in as {result.username!r} (the leader) with password {result.password!r};")
    click.echo(
        f"Members member01 ... member{members - 2:02d} use the same password; "
        f"member{members - 1:02d} is waiting for approval."
    )


@click.command("settle-auctions")
@click.option(
    "--clan", "clan_id", type=click.IntRange(min=1), help="Only this clan's auctions (its id)."
)
def settle_auctions(clan_id: int | None) -> None:
    """Book the result of every internal auction that has ended (safe to run at any time,
    and twice at once: each auction is settled once)."""
    report = auctions.settle_due(db.session, clan_id=clan_id)
    click.echo(f"{len(report.settled)} auction(s) settled.")
    for auction_id, message in report.failed:
        click.echo(f"auction {auction_id} not settled: {message}", err=True)
    if report.failed:
        raise SystemExit(1)


@click.command("deliver")
@click.option("--once", is_flag=True, help="One pass over what is due, then exit.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1, max=3600),
    default=5.0,
    show_default=True,
    help="Seconds between passes.",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1, max=50),
    default=8,
    show_default=True,
    help="Tries before a message is marked dead.",
)
@click.option(
    "--base-delay",
    type=click.FloatRange(min=0, max=86400),
    default=30.0,
    show_default=True,
    help="Seconds before the second try; doubled after each failure (at most an hour).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=60),
    default=10.0,
    show_default=True,
    help="Seconds to wait for a webhook to answer.",
)
def deliver(
    once: bool, interval: float, max_attempts: int, base_delay: float, timeout: float
) -> None:
    """Send the clan-chat messages waiting in the outbox (safe to run several at once:
    each message is claimed by one worker)."""
    policy = DeliveryPolicy(
        max_attempts=max_attempts,
        base_delay_s=base_delay,
        timeout_s=timeout,
        lease_s=max(120.0, timeout * 4),
        public_url=current_app.config.get("PUBLIC_URL", ""),
        allow_internal=current_app.config.get("WEBHOOKS_ALLOW_INTERNAL", False),
    )
    if not once:
        click.echo(f"Delivering clan-chat messages every {interval:g} s (Ctrl+C stops).")
    try:
        while True:
            _deliver_pass(policy, once)
            if once:
                return
            time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("stopped")


def _deliver_pass(policy: DeliveryPolicy, once: bool) -> None:
    """One pass; a database that is away is reported and tried again on the next pass
    (with ``--once`` it is an error)."""
    try:
        report = delivery.deliver_once(db.session, policy)
    except SQLAlchemyError as error:
        db.session.rollback()
        message = f"delivery pass failed: {str(error).splitlines()[0]}"
        if once:
            raise click.ClickException(message) from error
        click.echo(message, err=True)
        return
    if report.ids or once:
        click.echo(f"{report.sent} sent, {report.retrying} to retry, {report.dead} dead.")
