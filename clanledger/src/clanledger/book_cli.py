"""``flask book-recurring``: make the personal books' recurring transactions that fell due
(for a daily cron job; visiting the book does the same for its owner)."""

from __future__ import annotations

from datetime import date

import click
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from clanledger.extensions import db
from clanledger.services.book import recurring_run
from clanledger.services.errors import ServiceError


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date such as 2026-12-31") from None
    if not 1970 <= day.year <= 2999:
        raise click.BadParameter(f"{value!r} is outside 1970-2999")
    return day


@click.command("book-recurring")
@click.option(
    "--date",
    "today",
    callback=_day,
    metavar="YYYY-MM-DD",
    help="Make what is due up to this day instead of today (in BOOK_TIMEZONE).",
)
def book_recurring_command(today: date | None) -> None:
    """Make every user's recurring book transactions due up to today (safe to run at any
    time and twice at once: each date is made once). Exits 1 if a book could not be run."""
    today = today or recurring_run.today_in(current_app.config.get("BOOK_TIMEZONE"))
    made = paused = failed = 0
    for user_id in recurring_run.due_users(db.session, today):
        try:
            report = recurring_run.run_due(db.session, user_id, today)
        except (ServiceError, SQLAlchemyError) as error:
            db.session.rollback()
            failed += 1
            click.echo(f"user {user_id}: not run: {str(error).splitlines()[0]}", err=True)
            continue
        made += len(report.made)
        paused += len(report.paused)
        for rule_id, name, reason, params in report.paused:
            click.echo(f"user {user_id}: rule {rule_id} ({name}) paused: {reason % params}")
    click.echo(f"{today}: {made} transaction(s) made, {paused} rule(s) paused.")
    if failed:
        raise SystemExit(1)
