"""The month plan every member can read before the close (read-only; officers confirm it on
the close page). Linked from the dashboard, not the clan menu, which has no room left on one row."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from clanledger.extensions import db
from clanledger.models import Role
from clanledger.services import month_plan
from clanledger.web.scoping import clan_view

bp = Blueprint("plan", __name__)


@bp.get("/clans/<int:clan_id>/plan")
@clan_view(Role.MEMBER)
def index(clan_id: int) -> str:
    plan = month_plan.member_plan(db.session, current_user.id, clan_id)
    return render_template("plan/index.html", plan=plan)
