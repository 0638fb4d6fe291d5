"""Member statements: my running balance, any member's (officers), and "explain my
balance": the whole entry behind every line."""

from __future__ import annotations

from flask import Blueprint, current_app, g, url_for
from flask import render_template as render
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from clanledger.extensions import db
from clanledger.models import Role
from clanledger.services import balances, statements
from clanledger.web.nav import register_nav
from clanledger.web.params import id_arg
from clanledger.web.scoping import clan_view

bp = Blueprint("statements", __name__)
register_nav("statements.mine", _l("My statement"), min_role=Role.MEMBER, order=40)
register_nav("statements.index", _l("Balances"), min_role=Role.OFFICER, order=45)


LINE_LABELS = {
    "sale_received": _l("Received from the sale (you hold it)"),
    "purchase_price": _l("Bought from the clan"),
    "share": _l("Your share"),
    "reversal": _l("Correction (reversal)"),
    "adjustment": _l("Adjustment"),
    "transfer": _l("Settlement transfer"),
    "opening": _l("Carried from the last period"),
    "wallet_netting": _l("Moved within your wallet (no fee)"),
    "sale": _l("Sale"),
    "internal_purchase": _l("Internal purchase"),
}
ENTRY_KINDS = {
    "sale": _l("Sale"),
    "internal_purchase": _l("Internal purchase"),
    "transfer": _l("Settlement transfer"),
    "adjustment": _l("Adjustment"),
    "reversal": _l("Correction (reversal)"),
    "opening": _l("Opening balance"),
    "wallet_netting": _l("Wallet netting"),
}


@bp.app_template_global()
def statement_line_label(role: str) -> str:
    """What a statement line is, in the reader's language."""
    return str(LINE_LABELS.get(role, role))


@bp.app_template_global()
def entry_kind_label(kind: str) -> str:
    return str(ENTRY_KINDS.get(kind, kind))


@bp.app_template_global()
def entry_source_url(source_type: str | None, source_id: int | None) -> str | None:
    """Where a statement line about a transfer or a period close links to, if that page
    exists and the reader may open it (items and kills are linked by the template)."""
    if source_id is None:
        return None
    if source_type == "transfer" and "transfers.index" in current_app.view_functions:
        return url_for("transfers.index", clan_id=g.clan.id) + f"#transfer-{source_id}"
    officer = g.membership.role.rank >= Role.OFFICER.rank
    if (
        source_type in ("period", "wallets")
        and officer
        and "close.show" in current_app.view_functions
    ):
        return url_for("close.show", clan_id=g.clan.id, period_id=source_id)
    return None


def _period_arg() -> int | None:
    return id_arg("period")


@bp.get("/clans/<int:clan_id>/statement")
@clan_view(Role.MEMBER)
def mine(clan_id: int) -> str:
    stmt = statements.statement(db.session, current_user.id, clan_id, None, _period_arg())
    return render("statements/statement.html", stmt=stmt, character=None)


@bp.get("/clans/<int:clan_id>/statement/<int:character_id>")
@clan_view(Role.MEMBER)
def character(clan_id: int, character_id: int) -> str:
    stmt = statements.statement(db.session, current_user.id, clan_id, character_id, _period_arg())
    return render("statements/statement.html", stmt=stmt, character=stmt.characters[0])


@bp.get("/clans/<int:clan_id>/statement/<int:character_id>/explain")
@clan_view(Role.MEMBER)
def explain(clan_id: int, character_id: int) -> str:
    stmt, entries = statements.explain(
        db.session, current_user.id, clan_id, character_id, _period_arg()
    )
    return render(
        "statements/explain.html", stmt=stmt, entries=entries, character=stmt.characters[0]
    )


@bp.get("/clans/<int:clan_id>/statements")
@clan_view(Role.OFFICER)
def index(clan_id: int) -> str:
    overview = balances.balances_overview(db.session, current_user.id, clan_id, _period_arg())
    return render("statements/index.html", overview=overview)
