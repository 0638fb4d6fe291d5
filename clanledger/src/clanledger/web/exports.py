"""Exports: CSV and XLSX of the ledger, the balances, a statement and the transfer plan;
the printable statement that members screenshot into the clan chat."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

from flask import Blueprint, Response, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from clanledger.extensions import db
from clanledger.i18n import format_memo, shown_account_kind
from clanledger.models import Role
from clanledger.services import exports, periods
from clanledger.services.errors import NotFound
from clanledger.web.nav import register_nav
from clanledger.web.params import id_arg
from clanledger.web.scoping import clan_view
from clanledger.web.transfers import transfer_status_label

bp = Blueprint("exports", __name__)
register_nav("exports.index", _l("Exports"), min_role=Role.MEMBER, order=70)

MIME = {
    "csv": "text/csv",  # Flask adds "; charset=utf-8" to text types
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _format() -> str:
    fmt = request.args.get("format", "csv")
    if fmt not in MIME:
        raise NotFound()
    return fmt


def _file_name(what: str, period_id: int | None = None) -> str:
    """``<clan>-<month>-<what>`` in the reader's language, e.g. ``星辰血盟-2026-11-轉帳計畫``."""
    parts = [g.clan.name]
    if period_id is not None:
        period = periods.load_period(db.session, g.clan.id, period_id)
        parts.append(period.starts_on.strftime("%Y-%m"))
    parts.append(what)
    return "-".join(part.replace("/", "-").replace("\\", "-") for part in parts)


def _in_words(table: exports.Table) -> exports.Table:
    """The table with stored codes in the reader's language: entry kinds, accounts, transfer
    states and the memos the app writes."""
    words = {
        "Kind": lambda v: entry_kind_label(v) if v in KIND_LABELS else shown_account_kind(v),
        "Account": shown_account_kind,
        "Memo": format_memo,
        "Status": transfer_status_label,
    }
    columns = {i: words[title] for i, title in enumerate(table.header) if title in words}
    if not columns:
        return table
    rows = [
        [
            columns[i](value) if i in columns and isinstance(value, str) else value
            for i, value in enumerate(row)
        ]
        for row in table.rows
    ]
    return replace(table, rows=rows)


def _download(
    table: exports.Table, name: str, more_sheets: list[exports.Table] | None = None
) -> Response:
    """The table as a download named ``name`` (UTF-8 with an ASCII fallback, RFC 6266/5987);
    an XLSX file carries ``more_sheets`` after it (a CSV file holds one table)."""
    fmt = _format()
    header = [_(title) for title in table.header]
    table = _in_words(table)
    if fmt == "csv":
        body = exports.to_csv(table, header)
    else:
        sheets = [(table, header, _(table.title))]
        for extra in more_sheets or []:
            title = f"{_(extra.title)} {extra.rows[0][0] if extra.rows else ''}".strip()
            sheets.append((extra, [_(t) for t in extra.header], title))
        body = exports.to_xlsx(sheets)
    fallback = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    disposition = (
        f'attachment; filename="{fallback}.{fmt}"; '
        f"filename*=UTF-8''{quote(f'{name}.{fmt}', safe='')}"
    )
    return Response(body, mimetype=MIME[fmt], headers={"Content-Disposition": disposition})


@bp.get("/clans/<int:clan_id>/export")
@clan_view(Role.MEMBER)
def index(clan_id: int) -> str:
    return render_template("exports/index.html", periods=periods.clan_periods(db.session, clan_id))


@bp.get("/clans/<int:clan_id>/export/ledger")
@clan_view(Role.OFFICER)
def ledger(clan_id: int) -> Response:
    period = id_arg("period")
    table = exports.ledger_table(db.session, current_user.id, clan_id, period)
    return _download(table, _file_name(_("Ledger"), period))


@bp.get("/clans/<int:clan_id>/export/balances/<int:period_id>")
@clan_view(Role.OFFICER)
def balances(clan_id: int, period_id: int) -> Response:
    table = exports.balances_table(db.session, current_user.id, clan_id, period_id)
    return _download(table, _file_name(_("Balances"), period_id))


@bp.get("/clans/<int:clan_id>/export/plan/<int:period_id>")
@clan_view(Role.OFFICER)
def plan(clan_id: int, period_id: int) -> Response:
    table = exports.plan_table(db.session, current_user.id, clan_id, period_id)
    return _download(table, _file_name(_("Transfer plan"), period_id))


@bp.get("/clans/<int:clan_id>/export/statement")
@clan_view(Role.MEMBER)
def statement(clan_id: int) -> Response:
    character = id_arg("character")
    period = id_arg("period")
    table = exports.statement_table(db.session, current_user.id, clan_id, character, period)
    history = exports.history_tables(db.session, current_user.id, clan_id, character)
    return _download(table, _file_name(_("Statement"), period), history)


@bp.get("/clans/<int:clan_id>/export/history/<int:character_id>")
@clan_view(Role.MEMBER)
def history(clan_id: int, character_id: int) -> Response:
    (table,) = exports.history_tables(db.session, current_user.id, clan_id, character_id)
    return _download(table, _file_name(_("History")))


@bp.get("/clans/<int:clan_id>/export/statement/print")
@clan_view(Role.MEMBER)
def printable(clan_id: int) -> str:
    character = id_arg("character")
    period = id_arg("period")
    sheet = exports.printable_statement(db.session, current_user.id, clan_id, character, period)
    return render_template("exports/statement_print.html", sheet=sheet, character=character)


KIND_LABELS = {
    "sale": _l("Sale"),
    "internal_purchase": _l("Internal purchase"),
    "transfer": _l("Transfer"),
    "adjustment": _l("Adjustment"),
    "reversal": _l("Reversal"),
    "opening": _l("Opening balance"),
    "wallet_netting": _l("Wallet netting"),
}


@bp.app_template_global()
def entry_kind_label(kind: object) -> str:
    """A journal entry kind in words."""
    return str(KIND_LABELS.get(str(getattr(kind, "value", kind)), kind))
