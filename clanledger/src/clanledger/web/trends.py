"""History at a glance: the clan's income, bosses, items, fund and savings over time, one
member's last twelve months, and the year in review (SVG charts drawn by the server, each
with its numbers as a table)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from clanledger.extensions import db
from clanledger.models import Role
from clanledger.services import trends, year_review
from clanledger.services.dashboard import Bar
from clanledger.services.errors import ValidationError
from clanledger.services.trends import MonthFigure
from clanledger.web.dashboard import Chart, bar_chart, hbar_chart
from clanledger.web.scoping import clan_view

bp = Blueprint("trends", __name__)

TOP_SHOWN = 10


def month_chart(figures: list[MonthFigure]) -> Chart:
    """One bar per month, labelled with the month's number (the table names it in full);
    a negative figure draws as an empty bar."""
    bars = [Bar(str(f.month.month), max(f.value, 0)) for f in figures]
    return bar_chart(bars, step=24)


def ranking_chart(ranked: list[trends.Ranked]) -> Chart:
    return hbar_chart([Bar(r.label, r.value) for r in ranked[:TOP_SHOWN]], width=120, row=20)


def _year_arg() -> int | None:
    """The ``year`` asked for; None when absent; 400 when it is not a year."""
    text = request.args.get("year", "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 4:
        raise ValidationError(
            year_review.BAD_YEAR,
            "year",
            {"first": year_review.FIRST_YEAR, "last": year_review.LAST_YEAR},
        )
    return int(text)


@bp.get("/clans/<int:clan_id>/history")
@clan_view(Role.MEMBER)
def clan(clan_id: int) -> str:
    history = trends.clan_history(db.session, current_user.id, clan_id)
    return render_template(
        "trends/clan.html",
        history=history,
        income_chart=month_chart(history.income),
        fund_chart=month_chart(history.fund),
        boss_chart=ranking_chart(history.bosses),
        item_chart=ranking_chart(history.items),
    )


@bp.get("/clans/<int:clan_id>/history/year")
@clan_view(Role.MEMBER)
def year(clan_id: int) -> str:
    review = year_review.year_review(db.session, current_user.id, clan_id, _year_arg())
    return render_template(
        "trends/year.html",
        review=review,
        income_chart=month_chart(review.income),
        boss_chart=ranking_chart(review.bosses),
        attendance_chart=ranking_chart(review.attendance),
    )


@bp.get("/clans/<int:clan_id>/history/members/<int:character_id>")
@clan_view(Role.MEMBER)
def member(clan_id: int, character_id: int) -> str:
    history = trends.member_history(db.session, current_user.id, clan_id, character_id)
    earned = [MonthFigure(m.month, m.earned) for m in history.months]
    return render_template("trends/member.html", history=history, earned_chart=month_chart(earned))
