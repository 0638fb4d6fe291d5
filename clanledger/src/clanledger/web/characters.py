"""Characters: my characters, the clan roster, editing and claim links."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from clanledger.extensions import db
from clanledger.i18n import service_message
from clanledger.models import Role
from clanledger.services import characters
from clanledger.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from clanledger.web.forms import form_page_status, show_service_error
from clanledger.web.scoping import clan_view

bp = Blueprint("characters", __name__)


class CharacterForm(FlaskForm):
    name = StringField(
        _l("Character name"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "off"},
    )
    char_class = StringField(
        _l("Class"),
        validators=[Length(max=32)],
        render_kw={"list": "character-classes", "autocomplete": "off"},
    )
    submit = SubmitField(_l("Add character"))


class EditCharacterForm(CharacterForm):
    active = BooleanField(_l("Active (appears in roll calls)"))
    submit = SubmitField(_l("Save"))


def _page(clan_id: int, mine: CharacterForm, roster: CharacterForm) -> str:
    rows = characters.list_characters(db.session, current_user.id, clan_id)
    return render_template(
        "characters/index.html",
        rows=rows,
        mine=characters.owned_by(rows, current_user.id),
        form=mine,
        roster_form=roster,
        classes=characters.CHARACTER_CLASSES,
    )


def _roster_form(**kwargs: object) -> CharacterForm:
    form = CharacterForm(prefix="roster", **kwargs)
    form.submit.label.text = _("Add to roster")
    return form


@bp.route("/clans/<int:clan_id>/characters", methods=["GET", "POST"])
@clan_view(Role.MEMBER)
def index(clan_id: int) -> Response | tuple[str, int]:
    form = CharacterForm()
    refused = False
    if form.validate_on_submit():
        try:
            characters.add_character(
                db.session, current_user.id, clan_id, form.name.data, form.char_class.data or ""
            )
        except (ValidationError, Conflict) as error:
            show_service_error(form, error)
            refused = True
        else:
            flash(_("Character added."), "success")
            return redirect(url_for("characters.index", clan_id=clan_id))
    return _page(clan_id, form, _roster_form(formdata=None)), form_page_status(form, refused)


@bp.post("/clans/<int:clan_id>/characters/roster")
@clan_view(Role.OFFICER)
def add_roster(clan_id: int) -> Response | tuple[str, int]:
    form = _roster_form()
    refused = False
    if form.validate_on_submit():
        try:
            characters.add_roster_character(
                db.session, current_user.id, clan_id, form.name.data, form.char_class.data or ""
            )
        except (ValidationError, Conflict) as error:
            show_service_error(form, error)
            refused = True
        else:
            flash(_("Roster character added. Send its claim link to the player."), "success")
            return redirect(url_for("characters.index", clan_id=clan_id))
    return _page(clan_id, CharacterForm(formdata=None), form), form_page_status(form, refused)


@bp.route("/clans/<int:clan_id>/characters/<int:character_id>/edit", methods=["GET", "POST"])
@clan_view(Role.MEMBER)
def edit(clan_id: int, character_id: int) -> Response | tuple[str, int]:
    character = characters.get_character(db.session, current_user.id, clan_id, character_id)
    if character.user_id != current_user.id and g.membership.role.rank < Role.OFFICER.rank:
        abort(403)
    form = EditCharacterForm(obj=character)
    refused = False
    if form.validate_on_submit():
        try:
            characters.update_character(
                db.session,
                current_user.id,
                clan_id,
                character_id,
                form.name.data,
                form.char_class.data or "",
                bool(form.active.data),
            )
        except (ValidationError, Conflict) as error:
            show_service_error(form, error)
            refused = True
        else:
            flash(_("Character saved."), "success")
            return redirect(url_for("characters.index", clan_id=clan_id))
    return render_template(
        "characters/edit.html",
        form=form,
        character=character,
        classes=characters.CHARACTER_CLASSES,
    ), form_page_status(form, refused)


@bp.post("/clans/<int:clan_id>/characters/<int:character_id>/claim-link")
@clan_view(Role.OFFICER)
def claim_link(clan_id: int, character_id: int) -> Response | str:
    try:
        token = characters.create_claim_link(db.session, current_user.id, clan_id, character_id)
    except Conflict as error:
        flash(service_message(error), "warning")
        return redirect(url_for("characters.index", clan_id=clan_id))
    character = characters.get_character(db.session, current_user.id, clan_id, character_id)
    link = url_for("characters.claim", token=token, _external=True)
    return render_template("characters/claim_link.html", link=link, character=character)


@bp.route("/claim/<token>", methods=["GET", "POST"])
@login_required
def claim(token: str) -> Response | str:
    try:
        character = characters.character_for_claim(db.session, token)
    except NotFound as error:
        return render_template("errors/error.html", status=404, message=service_message(error)), 404
    if request.method == "POST":
        try:
            characters.claim_character(db.session, current_user.id, token)
        except PermissionDenied as error:
            return render_template(
                "errors/error.html", status=403, message=service_message(error)
            ), 403
        except Conflict as error:
            flash(service_message(error), "warning")
            return redirect(url_for("main.index"))
        flash(_("%(name)s is now your character.", name=character.name), "success")
        return redirect(url_for("characters.index", clan_id=character.clan_id))
    return render_template("characters/claim.html", character=character, form=FlaskForm())
