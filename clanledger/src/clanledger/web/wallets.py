"""Wallets: a player groups their characters that share one purse; officers correct them."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectMultipleField, SubmitField

from clanledger.extensions import db
from clanledger.i18n import service_message
from clanledger.models import Role
from clanledger.services import wallets
from clanledger.services.errors import Conflict, ValidationError
from clanledger.web.forms import form_page_status, select_choices, show_service_error
from clanledger.web.scoping import clan_view

bp = Blueprint("wallets", __name__)


class GroupForm(FlaskForm):
    """The characters (of one player) that share one wallet; the choices are the
    characters the reader may regroup, so an id from elsewhere fails the form (400)."""

    characters = SelectMultipleField(_l("Characters"), coerce=int)
    submit = SubmitField(_l("Share one wallet"))


def _officer() -> bool:
    return g.membership.role.rank >= Role.OFFICER.rank


def _group_form(players: list[wallets.PlayerWallets], **kwargs: object) -> GroupForm:
    form = GroupForm(**kwargs)
    choices = [(c.id, c.name) for p in players for c in p.characters]
    form.characters.choices = select_choices(choices)
    return form


def _players(clan_id: int) -> list[wallets.PlayerWallets]:
    return wallets.wallets_of_clan(db.session, current_user.id, clan_id, everyone=_officer())


def _page(players: list[wallets.PlayerWallets], form: GroupForm, status: int) -> tuple[str, int]:
    return render_template("wallets/index.html", players=players, form=form), status


@bp.get("/clans/<int:clan_id>/wallets")
@clan_view(Role.MEMBER)
def index(clan_id: int) -> tuple[str, int]:
    players = _players(clan_id)
    return _page(players, _group_form(players, formdata=None), 200)


@bp.post("/clans/<int:clan_id>/wallets")
@clan_view(Role.MEMBER)
def group(clan_id: int) -> Response | tuple[str, int]:
    players = _players(clan_id)
    form = _group_form(players)
    refused = False
    if form.validate_on_submit():
        try:
            wallets.group_characters(
                db.session, current_user.id, clan_id, form.characters.data or []
            )
        except (ValidationError, Conflict) as error:
            show_service_error(form, error)
            refused = True
        else:
            flash(_("These characters now share one wallet."), "success")
            return redirect(url_for("wallets.index", clan_id=clan_id))
    return _page(players, form, form_page_status(form, refused))


@bp.post("/clans/<int:clan_id>/wallets/<int:character_id>/leave")
@clan_view(Role.MEMBER)
def leave(clan_id: int, character_id: int) -> Response | tuple[str, int]:
    try:
        character = wallets.ungroup_character(db.session, current_user.id, clan_id, character_id)
    except (ValidationError, Conflict) as error:
        players = _players(clan_id)
        form = _group_form(players, formdata=None)
        form.form_errors.append(service_message(error))
        return _page(players, form, 409)
    flash(_("%(name)s has a wallet of its own again.", name=character.name), "success")
    return redirect(url_for("wallets.index", clan_id=clan_id))
