"""Exports: CSV and XLSX of the ledger, the balances, a statement and the transfer plan;
the printable statement that members screenshot into the clan chat."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from clanledger.extensions import db
from clanledger.models import Role
from clanledger.services import exports, periods
from clanledger.services.errors import NotFound
from clanledger.web.nav import register_nav
from clanledger.web.params import id_arg
from clanledger.web.scoping import clan_view

bp = Blueprint("exports", __name__)
register_nav("exports.index", _l("Exports"), min_role=Role.MEMBER, order=70)

MIME = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _format() -> str:
    fmt = request.args.get("format", "csv")
    if fmt not in MIME:
        raise NotFound()
    return fmt


def _download(table: exports.Table, name: str) -> Response:
    fmt = _format()
    header = [_(title) for title in table.header]
    if fmt == "csv":
        body = exports.to_csv(table, header)
    else:
        body = exports.to_xlsx([(table, header, _(table.title))])
    return Response(
        body,
        mimetype=MIME[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


@bp.get("/clans/<int:clan_id>/export")
@clan_view(Role.MEMBER)
def index(clan_id: int) -> str:
    return render_template("exports/index.html", periods=periods.clan_periods(db.session, clan_id))


@bp.get("/clans/<int:clan_id>/export/ledger")
@clan_view(Role.OFFICER)
def ledger(clan_id: int) -> Response:
    period = id_arg("period")
    table = exports.ledger_table(db.session, current_user.id, clan_id, period)
    return _download(table, f"ledger-{clan_id}" + (f"-{period}" if period else ""))


@bp.get("/clans/<int:clan_id>/export/balances/<int:period_id>")
@clan_view(Role.OFFICER)
def balances(clan_id: int, period_id: int) -> Response:
    table = exports.balances_table(db.session, current_user.id, clan_id, period_id)
    return _download(table, f"balances-{clan_id}-{period_id}")


@bp.get("/clans/<int:clan_id>/export/plan/<int:period_id>")
@clan_view(Role.OFFICER)
def plan(clan_id: int, period_id: int) -> Response:
    table = exports.plan_table(db.session, current_user.id, clan_id, period_id)
    return _download(table, f"plan-{clan_id}-{period_id}")


@bp.get("/clans/<int:clan_id>/export/statement")
@clan_view(Role.MEMBER)
def statement(clan_id: int) -> Response:
    character = id_arg("character")
    period = id_arg("period")
    table = exports.statement_table(db.session, current_user.id, clan_id, character, period)
    return _download(table, f"statement-{clan_id}" + (f"-{character}" if character else ""))


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
}


@bp.app_template_global()
def entry_kind_label(kind: object) -> str:
    """A journal entry kind in words."""
    return str(KIND_LABELS.get(str(getattr(kind, "value", kind)), kind))
