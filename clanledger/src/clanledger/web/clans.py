"""Clans: create, settings, invitations, join requests, roles and reset links."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import (
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from clanledger.domain.fees import require_exchange_fee, require_fund_cut
from clanledger.extensions import db
from clanledger.i18n import service_message
from clanledger.models import Role
from clanledger.services import accounts, clans, memberships
from clanledger.services.clans import FEE_RANGE, FUND_CUT_RANGE
from clanledger.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from clanledger.web.forms import (
    INVALID_FORM_STATUS,
    PAGE_STATUS,
    REFUSED_STATUS,
    BoundedDateField,
    FiniteDecimalField,
    WholeNumberField,
    form_page_status,
    rate_validator,
    select_choices,
    show_service_error,
)
from clanledger.web.nav import register_nav
from clanledger.web.scoping import clan_view

bp = Blueprint("clans", __name__)

# Who bears the exchange fee of a settlement transfer (the clan's fee_policy), in words.
FEE_POLICY_LABELS = {
    "payer": _l("The payer"),
    "receiver": _l("The receiver"),
    "fund": _l("The clan fund"),
}

register_nav("characters.index", _l("Characters"), Role.MEMBER, order=70)
register_nav("clans.members", _l("Members"), Role.MEMBER, order=80)
register_nav("clans.invite", _l("Invite"), Role.OFFICER, order=85)
register_nav("audit.index", _l("Audit log"), Role.OFFICER, order=90)
register_nav("clans.settings", _l("Settings"), Role.LEADER, order=95)

TIMEZONES = [
    "Asia/Taipei",
    "Asia/Hong_Kong",
    "Asia/Macau",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Singapore",
    "Asia/Bangkok",
    "Asia/Ho_Chi_Minh",
    "UTC",
]


class ClanForm(FlaskForm):
    name = StringField(_l("Clan name"), validators=[DataRequired(), Length(max=64)])
    server = StringField(
        _l("Game server"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("For example 肯特01."),
    )
    fee_percent = FiniteDecimalField(
        _l("Exchange fee (%)"),
        places=2,
        default=5,
        validators=[InputRequired(), rate_validator(require_exchange_fee, FEE_RANGE)],
        description=_l("What the exchange keeps from each sale."),
        render_kw={"inputmode": "decimal"},
    )
    fund_percent = FiniteDecimalField(
        _l("Clan fund cut (%)"),
        places=2,
        default=10,
        validators=[InputRequired(), rate_validator(require_fund_cut, FUND_CUT_RANGE)],
        description=_l("Taken from every sale into the clan fund before the split."),
        render_kw={"inputmode": "decimal"},
    )
    fee_policy = SelectField(
        _l("Who bears the fee on settlement transfers"),
        choices=select_choices(FEE_POLICY_LABELS.items()),
        default="payer",
    )
    settlement_period = SelectField(
        _l("Settlement period"),
        choices=select_choices([("monthly", _l("Monthly"))]),
        default="monthly",
    )
    timezone = SelectField(
        _l("Timezone"), choices=select_choices((tz, tz) for tz in TIMEZONES), default="Asia/Taipei"
    )
    carry_threshold = WholeNumberField(
        _l("Carry threshold (diamonds)"),
        default=0,
        validators=[InputRequired(), NumberRange(min=0)],
        description=_l("Balances smaller than this carry to the next period instead of moving."),
        render_kw={"inputmode": "numeric"},
    )
    caller_bonus = FiniteDecimalField(
        _l("Caller bonus (shares)"),
        places=2,
        default=0,
        validators=[InputRequired(), NumberRange(min=0, max=10)],
        description=_l("Extra shares for the raid caller at a kill: 0 for none, 1 for one share."),
        render_kw={"inputmode": "decimal"},
    )
    checkin_window_minutes = WholeNumberField(
        _l("Check-in window (minutes)"),
        default=30,
        validators=[InputRequired(), NumberRange(min=1, max=10080)],
        render_kw={"inputmode": "numeric"},
    )
    rollcall_lock_minutes = WholeNumberField(
        _l("Roll call locks after (minutes)"),
        default=120,
        validators=[InputRequired(), NumberRange(min=1, max=10080)],
        render_kw={"inputmode": "numeric"},
    )
    submit = SubmitField(_l("Save"))

    def to_settings(self) -> clans.ClanSettings:
        return clans.ClanSettings(
            name=self.name.data or "",
            server=self.server.data or "",
            fee_bps=round(self.fee_percent.data * 100),
            fund_cut_bps=round(self.fund_percent.data * 100),
            fee_policy=self.fee_policy.data,
            settlement_period=self.settlement_period.data,
            timezone=self.timezone.data,
            carry_threshold=self.carry_threshold.data,
            caller_bonus=str(self.caller_bonus.data.normalize()),
            checkin_window_minutes=self.checkin_window_minutes.data,
            rollcall_lock_minutes=self.rollcall_lock_minutes.data,
        )

    def fill(self, settings: clans.ClanSettings) -> None:
        self.name.data, self.server.data = settings.name, settings.server
        self.fee_percent.data = Decimal(settings.fee_bps) / 100
        self.fund_percent.data = Decimal(settings.fund_cut_bps) / 100
        self.fee_policy.data = settings.fee_policy
        self.settlement_period.data = settings.settlement_period
        self.timezone.data = settings.timezone
        self.carry_threshold.data = settings.carry_threshold
        bonus = Fraction(settings.caller_bonus)
        self.caller_bonus.data = Decimal(bonus.numerator) / Decimal(bonus.denominator)
        self.checkin_window_minutes.data = settings.checkin_window_minutes
        self.rollcall_lock_minutes.data = settings.rollcall_lock_minutes


# Service field names -> form field names, so service errors land under the right input.
_FIELD_MAP = {"fee_bps": "fee_percent", "fund_cut_bps": "fund_percent"}


class SettingsForm(ClanForm):
    effective_from = BoundedDateField(
        _l("New rates apply from"),
        validators=[Optional()],
        description=_l("Leave empty for today. Earlier sales keep the rate they were made at."),
    )


class JoinCodeForm(FlaskForm):
    code = StringField(_l("Invite code"), validators=[DataRequired(), Length(max=32)])
    submit = SubmitField(_l("Continue"))


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Role"), choices=select_choices([("member", _l("Member")), ("officer", _l("Officer"))])
    )


def _show(form: FlaskForm, error: ValidationError) -> None:
    if error.field in _FIELD_MAP:
        error.field = _FIELD_MAP[error.field]
    show_service_error(form, error)


@bp.route("/clans/new", methods=["GET", "POST"])
@login_required
def create() -> Response | tuple[str, int]:
    form = ClanForm()
    status = INVALID_FORM_STATUS if form.is_submitted() else PAGE_STATUS
    if form.validate_on_submit():
        try:
            clan = clans.create_clan(db.session, current_user.id, form.to_settings())
        except ValidationError as error:
            _show(form, error)
            status = REFUSED_STATUS
        else:
            flash(_("Clan created. Share the invite link with your members."), "success")
            return redirect(url_for("clans.invite", clan_id=clan.id))
    return render_template("clans/create.html", form=form), status


@bp.route("/clans/<int:clan_id>/settings", methods=["GET", "POST"])
@clan_view(Role.LEADER)
def settings(clan_id: int) -> Response | tuple[str, int]:
    form = SettingsForm()
    if g.clan.timezone not in TIMEZONES:  # set elsewhere (CLI, older version): keep it valid
        form.timezone.choices = select_choices((tz, tz) for tz in [g.clan.timezone, *TIMEZONES])
    if request.method == "GET":
        form.fill(clans.current_settings(db.session, g.clan))
    status = INVALID_FORM_STATUS if form.is_submitted() else PAGE_STATUS
    if form.validate_on_submit():
        try:
            changed = clans.update_settings(
                db.session, current_user.id, clan_id, form.to_settings(), form.effective_from.data
            )
        except ValidationError as error:
            _show(form, error)
            status = REFUSED_STATUS
        else:
            flash(_("Settings saved."), "success")
            if changed:
                flash(_("The new rates were added to the rate history."), "info")
            return redirect(url_for("clans.settings", clan_id=clan_id))
    history = clans.rate_history(db.session, current_user.id, clan_id)
    return render_template("clans/settings.html", form=form, history=history), status


@bp.get("/clans/<int:clan_id>/invite")
@clan_view(Role.OFFICER)
def invite(clan_id: int) -> str:
    link = url_for("clans.join", code=g.clan.invite_code, _external=True)
    return render_template("clans/invite.html", link=link)


@bp.post("/clans/<int:clan_id>/invite/regenerate")
@clan_view(Role.OFFICER)
def regenerate_invite(clan_id: int) -> Response:
    memberships.regenerate_invite(db.session, current_user.id, clan_id)
    flash(_("A new invite code was made; the old link no longer works."), "success")
    return redirect(url_for("clans.invite", clan_id=clan_id))


@bp.route("/join", methods=["GET", "POST"])
@login_required
def join_with_code() -> Response | tuple[str, int]:
    form = JoinCodeForm()
    refused = False
    if form.validate_on_submit():
        code = clans.normalise_invite_code(form.code.data)
        try:
            memberships.clan_for_invite(db.session, code)
        except NotFound as error:
            form.code.errors = [service_message(error)]
            refused = True
        else:
            return redirect(url_for("clans.join", code=code))
    return render_template("clans/join_code.html", form=form), form_page_status(form, refused)


@bp.route("/join/<code>", methods=["GET", "POST"])
@login_required
def join(code: str) -> Response | str:
    try:
        clan = memberships.clan_for_invite(db.session, code)
    except NotFound as error:
        return render_template("errors/error.html", status=404, message=service_message(error)), 404
    if request.method == "POST":
        try:
            memberships.request_join(db.session, current_user.id, code)
        except Conflict as error:
            flash(service_message(error), "info")
        else:
            flash(
                _("Request sent. An officer of %(clan)s will approve it.", clan=clan.name),
                "success",
            )
        return redirect(url_for("main.index"))
    return render_template("clans/join.html", clan=clan, form=FlaskForm())


@bp.get("/clans/<int:clan_id>/members")
@clan_view(Role.MEMBER)
def members(clan_id: int) -> str:
    grouped = memberships.list_members(db.session, current_user.id, clan_id)
    return render_template("clans/members.html", grouped=grouped, role_form=RoleForm())


def _member_action(clan_id: int, action: Callable[[], object], success: str) -> Response:
    """Run one membership service call and come back to the member list."""
    try:
        action()
    except (Conflict, ValidationError) as error:
        flash(service_message(error), "warning")
    except PermissionDenied:
        abort(403)
    else:
        flash(success, "success")
    return redirect(url_for("clans.members", clan_id=clan_id))


@bp.post("/clans/<int:clan_id>/members/<int:membership_id>/approve")
@clan_view(Role.OFFICER)
def approve(clan_id: int, membership_id: int) -> Response:
    return _member_action(
        clan_id,
        lambda: memberships.decide_request(
            db.session, current_user.id, clan_id, membership_id, True
        ),
        _("Request approved."),
    )


@bp.post("/clans/<int:clan_id>/members/<int:membership_id>/reject")
@clan_view(Role.OFFICER)
def reject(clan_id: int, membership_id: int) -> Response:
    return _member_action(
        clan_id,
        lambda: memberships.decide_request(
            db.session, current_user.id, clan_id, membership_id, False
        ),
        _("Request rejected."),
    )


@bp.post("/clans/<int:clan_id>/members/<int:membership_id>/role")
@clan_view(Role.LEADER)
def change_role(clan_id: int, membership_id: int) -> Response:
    memberships.member_by_id(db.session, current_user.id, clan_id, membership_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Choose member or officer."), "warning")
        return redirect(url_for("clans.members", clan_id=clan_id))
    return _member_action(
        clan_id,
        lambda: memberships.set_role(
            db.session, current_user.id, clan_id, membership_id, Role(form.role.data)
        ),
        _("Role changed."),
    )


@bp.post("/clans/<int:clan_id>/members/<int:membership_id>/leader")
@clan_view(Role.LEADER)
def hand_over(clan_id: int, membership_id: int) -> Response:
    return _member_action(
        clan_id,
        lambda: memberships.hand_over_leadership(
            db.session, current_user.id, clan_id, membership_id
        ),
        _("Leadership handed over. You are now an officer."),
    )


@bp.post("/clans/<int:clan_id>/members/<int:membership_id>/remove")
@clan_view(Role.OFFICER)
def remove(clan_id: int, membership_id: int) -> Response:
    return _member_action(
        clan_id,
        lambda: memberships.remove_member(
            db.session, current_user.id, clan_id, membership_id, request.form.get("reason")
        ),
        _("Member removed. Their history stays in the ledger."),
    )


@bp.post("/clans/<int:clan_id>/leave")
@clan_view(Role.MEMBER)
def leave(clan_id: int) -> Response:
    try:
        memberships.leave_clan(db.session, current_user.id, clan_id)
    except Conflict as error:
        flash(service_message(error), "warning")
        return redirect(url_for("clans.members", clan_id=clan_id))
    flash(_("You left the clan."), "info")
    return redirect(url_for("main.index"))


@bp.post("/clans/<int:clan_id>/members/<int:membership_id>/reset-link")
@clan_view(Role.LEADER)
def reset_link(clan_id: int, membership_id: int) -> Response | str:
    target = memberships.member_by_id(db.session, current_user.id, clan_id, membership_id)
    token = accounts.create_reset_link(
        db.session, current_user.id, clan_id, target.user_id, hours=_reset_hours()
    )
    link = url_for("auth.reset_password", token=token, _external=True)
    return render_template("clans/reset_link.html", link=link, target=target, hours=_reset_hours())


def _reset_hours() -> int:
    return int(current_app.config["RESET_TOKEN_HOURS"])
