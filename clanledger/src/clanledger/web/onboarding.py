"""Setting a clan up in minutes: roster import and export, the built-in boss list, and the
first-run checklist on the dashboard."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectMultipleField, TextAreaField, widgets
from wtforms.validators import DataRequired

from clanledger.domain.roster import (
    MAX_ROSTER_BYTES,
    MAX_ROSTER_LINES,
    LineError,
    RosterRefused,
    decode_roster,
)
from clanledger.extensions import db
from clanledger.i18n import current_locale_code, service_message
from clanledger.models import Role
from clanledger.services import bosses, onboarding, roster
from clanledger.services.errors import Conflict, ValidationError
from clanledger.web.exports import _download, _file_name
from clanledger.web.forms import form_page_status, show_service_error
from clanledger.web.scoping import clan_view

bp = Blueprint("onboarding", __name__)

IMPORT_MODES = ("preview", "all", "valid")
DISMISSED_KEY = "checklist_dismissed"


class RosterForm(FlaskForm):
    roster = TextAreaField(
        _l("Roster"),
        render_kw={"rows": 8, "autocomplete": "off", "spellcheck": "false"},
    )
    upload = FileField(_l("Or a CSV or text file"))


class BossPickForm(FlaskForm):
    bosses = SelectMultipleField(
        _l("Bosses"),
        validators=[DataRequired(_l("Tick at least one boss."))],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
    )


def line_message(error: LineError) -> str:
    """A line's error in the reader's language."""
    return service_message(error)


def _roster_text(form: RosterForm) -> str:
    """The uploaded file's text when a file was sent, else the pasted text."""
    upload = form.upload.data
    if upload is not None and getattr(upload, "filename", ""):
        return decode_roster(upload.stream.read(MAX_ROSTER_BYTES + 1))
    return form.roster.data or ""


def _import(clan_id: int, form: RosterForm, mode: str) -> Response | None:
    """Import the roster (``mode`` all or valid); a redirect on success, else ``None`` with
    the service's refusal shown on the form."""
    try:
        result = roster.import_roster(
            db.session, current_user.id, clan_id, form.roster.data or "", mode == "valid"
        )
    except (ValidationError, Conflict) as error:
        show_service_error(form, error)
        return None
    flash(
        ngettext("%(num)d character imported.", "%(num)d characters imported.", result.created)
        + (" " + _("%(count)s lines skipped.", count=result.skipped) if result.skipped else ""),
        "success",
    )
    return redirect(url_for("characters.index", clan_id=clan_id))


def _preview(clan_id: int, form: RosterForm) -> roster.RosterPreview | None:
    try:
        return roster.preview_roster(db.session, current_user.id, clan_id, form.roster.data or "")
    except ValidationError as error:
        show_service_error(form, error)
        return None


@bp.route("/clans/<int:clan_id>/characters/import", methods=["GET", "POST"])
@clan_view(Role.OFFICER)
def roster_import(clan_id: int) -> Response | tuple[str, int]:
    """Paste or upload, see every line checked (preview), then import all or the valid ones."""
    form = RosterForm()
    mode = request.form.get("mode", "preview")
    preview, refused = None, False
    if form.validate_on_submit() and mode in IMPORT_MODES:
        try:
            form.roster.data = _roster_text(form)
        except RosterRefused as error:
            form.upload.errors = [*form.upload.errors, service_message(error)]
            refused = True
        else:
            if mode != "preview":
                if done := _import(clan_id, form, mode):
                    return done
                refused = True
            preview = _preview(clan_id, form)
            refused = refused or preview is None
    status = 200 if preview is not None and not refused else form_page_status(form, refused)
    return render_template(
        "onboarding/import.html",
        form=form,
        preview=preview,
        line_message=line_message,
        max_kb=MAX_ROSTER_BYTES // 1024,
        max_lines=MAX_ROSTER_LINES,
    ), status


@bp.get("/clans/<int:clan_id>/characters/export")
@clan_view(Role.MEMBER)
def roster_export(clan_id: int) -> Response:
    table = roster.roster_table(db.session, current_user.id, clan_id)
    return _download(table, _file_name(_("Roster")))


@bp.route("/clans/<int:clan_id>/bosses/catalogue", methods=["GET", "POST"])
@clan_view(Role.OFFICER)
def boss_catalogue(clan_id: int) -> Response | tuple[str, int]:
    choices = bosses.catalogue_choices(db.session, current_user.id, clan_id)
    form = BossPickForm()
    form.bosses.choices = [(c.boss.key, c.boss.name_in(current_locale_code())) for c in choices]
    refused = False
    if form.validate_on_submit():
        try:
            added = bosses.add_from_catalogue(
                db.session, current_user.id, clan_id, form.bosses.data, current_locale_code()
            )
        except (ValidationError, Conflict) as error:
            show_service_error(form, error)
            refused = True
        else:
            flash(ngettext("%(num)d boss added.", "%(num)d bosses added.", added), "success")
            return redirect(url_for("kills.bosses", clan_id=clan_id))
    return render_template(
        "onboarding/bosses.html", form=form, choices=choices, locale=current_locale_code()
    ), form_page_status(form, refused)


def _dismissal(clan_id: int) -> str:
    """What the session remembers when the signed-in user hides a clan's checklist."""
    return f"{current_user.id}:{clan_id}"


@bp.post("/clans/<int:clan_id>/checklist/dismiss")
@clan_view(Role.OFFICER)
def dismiss_checklist(clan_id: int) -> Response | tuple[str, int]:
    if not FlaskForm().validate_on_submit():
        return render_template(
            "errors/error.html",
            status=400,
            message=_(
                "The form expired or was sent from elsewhere. Reload the page and try again."
            ),
        ), 400
    session[DISMISSED_KEY] = sorted({*session.get(DISMISSED_KEY, []), _dismissal(clan_id)})
    return redirect(url_for("dashboard.index", clan_id=clan_id))


def dashboard_checklist(clan_id: int) -> onboarding.Checklist | None:
    """The checklist to show on the dashboard: officers only, until done or dismissed."""
    hidden = _dismissal(clan_id) in session.get(DISMISSED_KEY, [])
    if g.membership.role.rank < Role.OFFICER.rank or hidden:
        return None
    checklist = onboarding.setup_checklist(db.session, current_user.id, clan_id)
    return None if checklist.done else checklist
