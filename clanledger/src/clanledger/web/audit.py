"""The clan's audit log, for officers: who changed what, when, before and after."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from clanledger.extensions import db
from clanledger.models import Role
from clanledger.services import history
from clanledger.web.params import page_arg
from clanledger.web.scoping import clan_view

bp = Blueprint("audit", __name__)

# The audit log stores the model's class name; officers read it in their language.
RECORD_LABELS = {
    "Attendance": _l("Attendance"),
    "Boss": _l("Boss"),
    "Character": _l("Character"),
    "Clan": _l("Clan"),
    "ClanRate": _l("Clan rate"),
    "Drop": _l("Item"),
    "JournalEntry": _l("Journal entry"),
    "Kill": _l("Kill"),
    "Membership": _l("Membership"),
    "PasswordResetToken": _l("Password reset link"),
    "Period": _l("Period"),
    "Posting": _l("Posting"),
    "Sale": _l("Sale"),
    "Transfer": _l("Transfer"),
}


@bp.app_template_global()
def record_label(entity_type: str) -> str:
    """The translated name of an audited kind of record (``Drop`` -> 物品)."""
    return str(RECORD_LABELS.get(entity_type, entity_type))


@bp.get("/clans/<int:clan_id>/audit")
@clan_view(Role.OFFICER)
def index(clan_id: int) -> str:
    page = page_arg()
    entity_type = request.args.get("type") or None
    result = history.audit_page(db.session, current_user.id, clan_id, page, entity_type)
    return render_template("audit/index.html", result=result, entity_type=entity_type)
