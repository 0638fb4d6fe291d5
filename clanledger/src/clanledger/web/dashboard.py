"""The clan home page: balances, who holds what, the period's sales, netting savings,
attendance and charts (SVG drawn by the server)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from clanledger.extensions import db
from clanledger.models import Role
from clanledger.services import dashboard
from clanledger.services.dashboard import Bar
from clanledger.web.kills import checkin_form
from clanledger.web.nav import register_nav
from clanledger.web.onboarding import dashboard_checklist
from clanledger.web.scoping import clan_view

bp = Blueprint("dashboard", __name__)
register_nav("dashboard.index", _l("Dashboard"), min_role=Role.MEMBER, order=10)


@bp.get("/clans/<int:clan_id>/")
@clan_view(Role.MEMBER)
def index(clan_id: int) -> str:
    board = dashboard.dashboard(db.session, current_user.id, clan_id)
    return render_template(
        "dashboard/index.html",
        board=board,
        sales_chart=bar_chart(board.sales_by_day),
        attendance_chart=hbar_chart(board.attendance[:15]),
        checkin=checkin_form(formdata=None),
        checklist=dashboard_checklist(clan_id),
    )


@dataclass(frozen=True)
class ChartBar:
    x: int
    y: int
    width: int
    height: int
    label: str
    value: int
    show_label: bool


@dataclass(frozen=True)
class Chart:
    """An SVG chart in whole viewBox units: the template only draws what is here."""

    width: int
    height: int
    bars: list[ChartBar]
    maximum: int


def bar_chart(bars: list[Bar], height: int = 120, step: int = 12) -> Chart:
    """Vertical bars (one per day), heights proportional to the value, in integers."""
    top = max((b.value for b in bars), default=0) or 1
    every = max(1, len(bars) // 10)
    drawn = [
        ChartBar(
            x=i * step,
            y=height - b.value * height // top,
            width=step - 2,
            height=b.value * height // top,
            label=b.label,
            value=b.value,
            show_label=i % every == 0,
        )
        for i, b in enumerate(bars)
    ]
    return Chart(len(bars) * step, height, drawn, top)


def hbar_chart(bars: list[Bar], width: int = 200, row: int = 18) -> Chart:
    """Horizontal bars (one per member), lengths proportional to the value."""
    top = max((b.value for b in bars), default=0) or 1
    drawn = [
        ChartBar(0, i * row, b.value * width // top, row - 4, b.label, b.value, True)
        for i, b in enumerate(bars)
    ]
    return Chart(width, len(bars) * row, drawn, top)
