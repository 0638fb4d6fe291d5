"""The clan's audit log, for officers: who changed what, when, before and after."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from clanledger.extensions import db
from clanledger.models import Role
from clanledger.services import history
from clanledger.web.scoping import clan_view

bp = Blueprint("audit", __name__)


@bp.get("/clans/<int:clan_id>/audit")
@clan_view(Role.OFFICER)
def index(clan_id: int) -> str:
    page = request.args.get("page", 1, type=int)
    entity_type = request.args.get("type") or None
    result = history.audit_page(db.session, current_user.id, clan_id, page, entity_type)
    return render_template("audit/index.html", result=result, entity_type=entity_type)
