"""Looking back (回顧): the month report, the year report and the year in review, with
server-drawn SVG charts (each followed by a table of the same figures)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import render_template, request
from flask_babel import lazy_gettext as _l

from clanledger.domain.book import charts
from clanledger.domain.book.budget import add_months
from clanledger.extensions import db
from clanledger.i18n import select_timezone
from clanledger.services.book import reports as service
from clanledger.web.book import backup as _export_views  # noqa: F401  (the export tab)
from clanledger.web.book.common import (
    book_view,
    bp,
    register_book_section,
    register_book_tab,
    user_id,
)

register_book_tab("book.reports", _l("Looking back"), order=40)
register_book_section("book.reports", "book.reports_year", "book.reports_review")

WEEKDAYS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)


def today() -> date:
    """Today where the reader is (Asia/Taipei unless a clan says otherwise)."""
    return datetime.now(ZoneInfo(select_timezone())).date()


def _currency() -> str | None:
    return request.args.get("currency") or None


@bp.get("/reports")
@book_view
def reports() -> str:
    """The month report."""
    page = service.month_page(
        db.session, user_id(), request.args.get("month"), _currency(), today()
    )
    report = page.report
    return render_template(
        "book/reports/month.html",
        report=report,
        names=page.names,
        widths=charts.bar_widths([c.amount for c in report.categories], 200),
        slices=charts.donut([c.permille for c in report.categories]),
        prev_month=add_months(report.month, -1),
        next_month=add_months(report.month, 1),
    )


@bp.get("/reports/year")
@book_view
def reports_year() -> str:
    page = service.year_page(db.session, user_id(), request.args.get("year"), _currency(), today())
    report = page.report
    return render_template(
        "book/reports/year.html",
        report=report,
        names=page.names,
        columns=charts.month_columns([(m.income, m.spending) for m in report.months]),
    )


@bp.get("/reports/review")
@book_view
def reports_review() -> str:
    page = service.review_page(
        db.session, user_id(), request.args.get("year"), _currency(), today()
    )
    return render_template(
        "book/reports/review.html", found=page.report, names=page.names, weekdays=WEEKDAYS
    )
