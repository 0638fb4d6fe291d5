"""``flask --app clanledger`` commands of the month-end close: close-period, backup, restore.

Each is a thin layer over a service function that tests import directly.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask import Flask
from flask_migrate import upgrade

from clanledger.extensions import db
from clanledger.services import accounts, backup, clans, close
from clanledger.services.close_preview import ClosePreview
from clanledger.services.errors import ServiceError
from clanledger.services.periods import period_bounds, period_starting


def register_close_commands(app: Flask) -> None:
    app.cli.add_command(close_period)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


def _month(value: str) -> date:
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a month such as 2026-03") from exc


@click.command("close-period")
@click.option("--clan", "clan_id", type=int, required=True, help="The clan's id.")
@click.option("--month", required=True, help="The period to close, as YYYY-MM.")
@click.option("--as", "username", required=True, help="An officer or the leader who closes it.")
@click.option("--dry-run", is_flag=True, help="Print the plan without closing.")
def close_period(clan_id: int, month: str, username: str, dry_run: bool) -> None:
    """Close a month: print its transfer plan and saving, lock it, open the next period."""
    user = accounts.find_user_by_username(db.session, username)
    if user is None:
        raise click.BadParameter(f"no user named {username!r}", param_hint="--as")
    clan = clans.find_clan(db.session, clan_id)
    if clan is None:
        raise click.BadParameter(f"no clan with id {clan_id}", param_hint="--clan")
    start, _ = period_bounds(clan, _month(month))
    period = period_starting(db.session, clan_id, start)
    if period is None:
        raise click.ClickException(f"{month} has no period in this clan (nothing was posted)")
    try:
        preview = close.preview_close(db.session, user.id, clan_id, period.id)
        for t in preview.transfers:
            click.echo(
                f"{t.seq:>3}. {t.payer} buys {t.receiver}'s listing at {t.gross} "
                f"(fee {t.fee}, {t.receiver} gets {t.received})"
            )
        s = preview.savings
        click.echo(
            f"Netting saves {s.saved} diamonds: {s.plan_transfers} transfers and {s.plan_fees} "
            f"in fees instead of {s.per_sale_transfers} and {s.per_sale_fees}."
        )
        _echo_wallets(preview)
        if not dry_run:
            close.confirm_close(db.session, user.id, clan_id, period.id, preview.digest)
            click.echo(f"{month} closed.")
    except ServiceError as exc:
        raise click.ClickException(exc.text) from exc


def _echo_wallets(preview: ClosePreview) -> None:
    """The wallet netting (fee-free moves inside wallets) and what the wallets save."""
    for line in preview.lines:
        if line.netting:
            click.echo(f"     wallet netting: {line.name} {line.netting:+d}")
    w = preview.wallet_saving
    if w is not None:
        click.echo(
            f"Wallets save {w.saved_fees} diamonds of fees and {w.saved_transfers} "
            f"transfer{'' if w.saved_transfers == 1 else 's'}: "
            f"{w.wallet_transfers} transfers and {w.wallet_fees} in fees instead of "
            f"{w.character_transfers} and {w.character_fees} netted per character."
        )


@click.command("backup")
@click.option("--clan", "clan_id", type=int, required=True, help="The clan's id.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="JSON file."
)
def backup_command(clan_id: int, out: Path) -> None:
    """Write a full JSON backup of one clan (every row, the audit log included)."""
    try:
        data = backup.backup_from(db.session, clan_id)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    backup.write_backup(data, out)
    rows = sum(len(t["rows"]) for t in data["tables"].values())
    click.echo(f"wrote {rows} rows of clan {clan_id} to {out}")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(path: Path) -> None:
    """Restore a JSON backup into an empty database (SQLite or PostgreSQL).

    The schema is created (or upgraded) first with the migrations, as `flask db upgrade`.
    """
    upgrade()
    try:
        clan_id = backup.restore_into(db.session, backup.read_backup(path))
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored clan {clan_id} from {path}")
