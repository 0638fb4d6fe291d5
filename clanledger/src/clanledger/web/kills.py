"""Boss kills: the list, recording a kill on a phone, the kill page with its check-in code,
the roll call (officers), member check-in and the clan's boss list."""

from __future__ import annotations

import secrets

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from clanledger.domain.collation import sort_key
from clanledger.extensions import db
from clanledger.i18n import service_message
from clanledger.models import Character, Kill, Role
from clanledger.models.types import utcnow
from clanledger.services import bosses, drops, kills, notify
from clanledger.services.errors import Conflict, ValidationError
from clanledger.services.paging import page_window
from clanledger.web.forms import handle_form, local_now, to_utc, within_clan_history
from clanledger.web.nav import register_nav
from clanledger.web.notify import chat_text
from clanledger.web.params import page_arg
from clanledger.web.scoping import clan_view

bp = Blueprint("kills", __name__)
register_nav("kills.index", _l("Kills"), min_role=Role.MEMBER, order=20)

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
KILLS_PER_PAGE = 30


class RollCallForm(FlaskForm):
    """Participants with weights: the multi-select posts ``participants`` (character ids)
    and one ``w-<id>`` text per ticked row (``1``, ``1/2``, ``0.5``, ``1.25``...)."""

    participants = SelectMultipleField(_l("Participants"), coerce=int)
    caller = SelectField(_l("Caller (bonus share)"), coerce=int, default=0)

    def weights(self) -> dict[int, str]:
        return {
            cid: request.form.get(f"w-{cid}", "1") or "1" for cid in self.participants.data or []
        }

    def caller_id(self) -> int | None:
        return self.caller.data or None

    def fill_roster(self, roster: list[Character]) -> None:
        self.participants.choices = [(c.id, c.name) for c in roster]
        self.caller.choices = [(0, _("No caller")), *((c.id, c.name) for c in roster)]


class KillForm(RollCallForm):
    boss_id = SelectField(_l("Boss"), coerce=int, validators=[InputRequired()])
    killed_at = DateTimeLocalField(
        _l("Killed at"), format=LOCAL_FORMAT, validators=[DataRequired(), within_clan_history]
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
    request_key = HiddenField()
    submit = SubmitField(_l("Record kill"))


class EditRollCallForm(RollCallForm):
    reason = TextAreaField(
        _l("Reason for the change"),
        validators=[Optional(), Length(max=500)],
        description=_l("Needed once the roll call is locked or items of the kill are sold."),
    )
    submit = SubmitField(_l("Save roll call"))


class CheckInForm(FlaskForm):
    code = StringField(
        _l("Check-in code"),
        validators=[DataRequired(), Length(max=16)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "inputmode": "text"},
    )
    character_id = SelectField(_l("Character"), coerce=int, validators=[Optional()])
    submit = SubmitField(_l("Check in"))


class BossForm(FlaskForm):
    name = StringField(_l("Boss name"), validators=[DataRequired(), Length(max=64)])
    submit = SubmitField(_l("Add boss"))


class EditBossForm(FlaskForm):
    name = StringField(_l("Boss name"), validators=[DataRequired(), Length(max=64)])
    active = BooleanField(_l("On the list"))
    submit = SubmitField(_l("Save"))


class DropForm(FlaskForm):
    name = StringField(
        _l("Item"),
        validators=[DataRequired(), Length(max=100)],
        render_kw={"list": "item-names", "autocomplete": "off"},
    )
    grade = StringField(_l("Grade"), validators=[Optional(), Length(max=32)])
    holder_character_id = SelectField(_l("Holder"), coerce=int, validators=[InputRequired()])
    request_key = HiddenField()
    submit = SubmitField(_l("Record drop"))

    def fill(self, roster: list[Character], kill: Kill, recorder_id: int) -> None:
        """Holders: those at the kill first; the recording player's character is chosen
        (the one at the kill, else their first), since the one recording usually holds it."""
        there = {a.character_id for a in kill.attendance}
        ordered = sorted(roster, key=lambda c: (c.id not in there, sort_key(c.name)))
        self.holder_character_id.choices = [(c.id, c.name) for c in ordered]
        mine = [c for c in ordered if c.user_id == recorder_id]
        if mine and self.holder_character_id.data is None:
            self.holder_character_id.data = mine[0].id
        if not self.request_key.data:
            self.request_key.data = secrets.token_urlsafe(16)


def checkin_form(**kwargs) -> CheckInForm:
    form = CheckInForm(**kwargs)
    mine = kills.my_characters(db.session, current_user.id, g.clan.id)
    form.character_id.choices = [(c.id, c.name) for c in mine]
    return form


@bp.get("/clans/<int:clan_id>/kills")
@clan_view(Role.MEMBER)
def index(clan_id: int) -> str:
    total = kills.count_kills(db.session, current_user.id, clan_id)
    page, pages, offset = page_window(total, page_arg(), KILLS_PER_PAGE)
    rows = kills.list_kills(db.session, current_user.id, clan_id, KILLS_PER_PAGE, offset)
    return render_template(
        "kills/index.html",
        kills=rows,
        page=page,
        pages=pages,
        total=total,
        checkin=checkin_form(formdata=None),
        now=utcnow(),
        names=_names(clan_id),
    )


def _names(clan_id: int) -> dict[int, str]:
    return {c.id: c.name for c in kills.roster(db.session, current_user.id, clan_id)}


@bp.route("/clans/<int:clan_id>/kills/new", methods=["GET", "POST"])
@clan_view(Role.OFFICER)
def new(clan_id: int) -> Response | str:
    roster = kills.roster(db.session, current_user.id, clan_id, regulars_first=True)
    form = KillForm()
    form.fill_roster(roster)
    form.boss_id.choices = [
        (b.id, b.name) for b in bosses.list_bosses(db.session, current_user.id, clan_id)
    ]
    if request.method == "GET":
        form.killed_at.data = local_now(g.clan.timezone)
        form.request_key.data = secrets.token_urlsafe(16)
    status = handle_form(
        form,
        lambda: kills.record_kill(
            db.session,
            current_user.id,
            clan_id,
            boss_id=form.boss_id.data,
            killed_at=to_utc(form.killed_at.data, g.clan.timezone),
            participants=form.weights(),
            caller_character_id=form.caller_id(),
            note=form.note.data or "",
            request_key=form.request_key.data or None,
        ),
        lambda kill: _("Kill recorded. Check-in code: %(code)s", code=kill.checkin_code),
        lambda kill: url_for("kills.show", clan_id=clan_id, kill_id=kill.id),
    )
    if isinstance(status, Response):
        return status
    last = kills.last_roll_call(db.session, current_user.id, clan_id)
    return render_template(
        "kills/new.html",
        form=form,
        roster=roster,
        weights=_posted_weights(form),
        last={cid: str(weight) for cid, weight in last.items()},
    ), status


def _posted_weights(form: RollCallForm) -> dict[int, str]:
    return form.weights() if request.method == "POST" else {}


@bp.get("/clans/<int:clan_id>/kills/<int:kill_id>")
@clan_view(Role.MEMBER)
def show(clan_id: int, kill_id: int) -> str:
    kill = kills.get_kill(db.session, current_user.id, clan_id, kill_id)
    roster = kills.roster(db.session, current_user.id, clan_id)
    drop_form = DropForm(formdata=None)
    drop_form.fill(roster, kill, current_user.id)
    return _kill_page(kill, roster, drop_form)


def _kill_page(kill: Kill, roster: list[Character], drop_form: DropForm) -> str:
    return render_template(
        "kills/show.html",
        kill=kill,
        **kill_context(kill, roster),
        drop_form=drop_form,
        item_names=drops.item_names(db.session, current_user.id, kill.clan_id),
        checkin=checkin_form(formdata=None, code=kill.checkin_code),
        chat_text=chat_text("kill_recorded", notify.kill_data(g.clan, kill, kill.boss.name)),
    )


@bp.post("/clans/<int:clan_id>/kills/<int:kill_id>/drops")
@clan_view(Role.MEMBER)
def record_drop(clan_id: int, kill_id: int) -> Response | tuple[str, int]:
    """Record an item that dropped at the kill (any member); the kill page on errors."""
    kill = kills.get_kill(db.session, current_user.id, clan_id, kill_id)
    roster = kills.roster(db.session, current_user.id, clan_id)
    form = DropForm()
    form.fill(roster, kill, current_user.id)
    status = handle_form(
        form,
        lambda: drops.record_drop(
            db.session,
            current_user.id,
            clan_id,
            kill_id=kill_id,
            name=form.name.data,
            grade=form.grade.data or "",
            holder_character_id=form.holder_character_id.data,
            request_key=form.request_key.data or None,
        ),
        _("Drop recorded."),
        lambda drop: url_for("drops.show", clan_id=clan_id, drop_id=drop.id),
    )
    if isinstance(status, Response):
        return status
    return _kill_page(kill, roster, form), status


def kill_context(kill: Kill, roster: list[Character]) -> dict:
    now = utcnow()
    names = {c.id: c.name for c in roster}
    return {
        "names": names,
        # By name in the reader's order; a character no longer on the roster last.
        "roll_call": sorted(
            kill.attendance,
            key=lambda a: (a.character_id not in names, sort_key(names.get(a.character_id, ""))),
        ),
        "weights": kills.roll_call_weights(kill),
        "locked": kills.is_locked(kill, now),
        "checkin_open": kills.checkin_open(kill, now),
        "now": now,
    }


@bp.route("/clans/<int:clan_id>/kills/<int:kill_id>/roll-call", methods=["GET", "POST"])
@clan_view(Role.OFFICER)
def roll_call(clan_id: int, kill_id: int) -> Response | str:
    kill = kills.get_kill(db.session, current_user.id, clan_id, kill_id)
    roster = kills.roster(db.session, current_user.id, clan_id)
    form = EditRollCallForm()
    form.fill_roster(roster)
    if request.method == "GET":
        form.participants.data = [a.character_id for a in kill.attendance]
        form.caller.data = kill.caller_character_id or 0
    status = handle_form(
        form,
        lambda: kills.set_roll_call(
            db.session,
            current_user.id,
            clan_id,
            kill_id,
            form.weights(),
            form.caller_id(),
            reason=form.reason.data or "",
        ),
        _("Roll call saved."),
        lambda _kill: url_for("kills.show", clan_id=clan_id, kill_id=kill_id),
    )
    if isinstance(status, Response):
        return status
    weights = _posted_weights(form) or {a.character_id: str(a.weight) for a in kill.attendance}
    return render_template(
        "kills/roll_call.html",
        kill=kill,
        form=form,
        roster=roster,
        weights=weights,
        **{k: v for k, v in kill_context(kill, roster).items() if k != "weights"},
    ), status


@bp.route("/clans/<int:clan_id>/checkin", methods=["GET", "POST"])
@clan_view(Role.MEMBER)
def checkin(clan_id: int) -> Response | str:
    form = checkin_form(code=request.args.get("code", ""))
    status = handle_form(
        form,
        lambda: kills.check_in(
            db.session, current_user.id, clan_id, form.code.data, form.character_id.data
        ),
        _("You are on the roll call."),
        lambda attendance: url_for("kills.show", clan_id=clan_id, kill_id=attendance.kill_id),
    )
    if isinstance(status, Response):
        return status
    return render_template("kills/checkin.html", form=form), status


@bp.route("/clans/<int:clan_id>/bosses", methods=["GET", "POST"], endpoint="bosses")
@clan_view(Role.OFFICER)
def boss_list(clan_id: int) -> Response | str:
    form = BossForm()
    status = handle_form(
        form,
        lambda: bosses.add_boss(db.session, current_user.id, clan_id, form.name.data),
        _("Boss added."),
        lambda _boss: url_for("kills.bosses", clan_id=clan_id),
    )
    if isinstance(status, Response):
        return status
    rows = bosses.list_bosses(db.session, current_user.id, clan_id, include_inactive=True)
    edit_forms = {
        b.id: EditBossForm(formdata=None, prefix=f"b{b.id}", name=b.name, active=b.active)
        for b in rows
    }
    return render_template(
        "kills/bosses.html", form=form, bosses=rows, edit_forms=edit_forms
    ), status


@bp.post("/clans/<int:clan_id>/bosses/<int:boss_id>")
@clan_view(Role.OFFICER)
def update_boss(clan_id: int, boss_id: int) -> Response:
    bosses.get_boss(db.session, current_user.id, clan_id, boss_id)
    form = EditBossForm(prefix=f"b{boss_id}")
    if form.validate_on_submit():
        try:
            bosses.update_boss(
                db.session, current_user.id, clan_id, boss_id, form.name.data, form.active.data
            )
        except (ValidationError, Conflict) as error:
            flash(service_message(error), "error")
        else:
            flash(_("Boss saved."), "success")
    else:
        flash(_("Give the boss a name."), "error")
    return redirect(url_for("kills.bosses", clan_id=clan_id))
