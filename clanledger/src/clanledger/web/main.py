"""The start page (my clans), the language switch, health check and error pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request
from flask import url_for as flask_url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from clanledger.api.problems import http_problem, is_api_request
from clanledger.extensions import db
from clanledger.i18n import LANGUAGES, remember_locale
from clanledger.security import safe_next_url
from clanledger.services import accounts, clans
from clanledger.web.nav import clan_nav_context

bp = Blueprint("main", __name__)
bp.app_context_processor(clan_nav_context)


@bp.app_template_global()
def clan_home_url(clan_id: int) -> str:
    """The clan's start page: the dashboard when it exists, else the member list."""
    endpoint = "dashboard.index" if "dashboard.index" in current_app.view_functions else None
    return flask_url_for(endpoint or "clans.members", clan_id=clan_id)


@bp.get("/")
def index() -> str:
    if not current_user.is_authenticated:
        return render_template("main/welcome.html")
    overview = clans.my_clans(db.session, current_user.id)
    return render_template("main/index.html", overview=overview)


@bp.post("/lang")
def set_language() -> Response:
    """Switch the interface language; stored in the session and on the signed-in user."""
    locale = request.form.get("locale", "")
    if locale in LANGUAGES:
        remember_locale(locale)
        if current_user.is_authenticated:
            accounts.set_locale(db.session, current_user.id, locale)
    else:
        flash(_("This language is not available."), "warning")
    return redirect(safe_next_url(request.form.get("next")) or flask_url_for("main.index"))


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@bp.app_errorhandler(CSRFError)
def _csrf_error(error: CSRFError) -> Any:
    message = _("The form expired or was sent from elsewhere. Reload the page and try again.")
    return render_template("errors/error.html", status=400, message=message), 400


@bp.app_errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Any:
    if error.code is None or error.code < 400:
        return error
    if is_api_request():  # an address under /api/ that no API route matched
        return http_problem(error)
    return render_template("errors/error.html", status=error.code), error.code
