"""The clan link page (血盟連動): turn the read-only mirror of the clan ledgers on or off,
choose the diamonds account it writes the game's moves to, and see each clan's mirrored
claim next to the clan statement. The mirror itself runs before every book page
(:func:`clanledger.services.book.clan_link.on_visit`)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectField, SubmitField

from clanledger.extensions import db
from clanledger.i18n import service_message
from clanledger.services.book import clan_link
from clanledger.services.errors import Conflict, ValidationError
from clanledger.web.book.common import (
    book_view,
    bp,
    register_book_tab,
    register_home_panel,
    register_on_visit,
    user_id,
)
from clanledger.web.forms import form_page_status, show_service_error

NEW_ACCOUNT = 0  # the account choice that makes a new diamonds account

register_book_tab("book.clan_link_page", _l("Clan link"), order=95)
register_on_visit(clan_link.on_visit)


class LinkForm(FlaskForm):
    """The diamonds account the game's moves go to: one of the user's, or a new one."""

    account = SelectField(_l("Diamonds account"), coerce=int)
    submit = SubmitField(_l("Turn the clan link on"))


class OffForm(FlaskForm):
    submit = SubmitField(_l("Turn the clan link off"))


def _form(status: clan_link.LinkStatus, **kwargs: Any) -> LinkForm:
    form = LinkForm(**kwargs)
    form.account.choices = [(a.id, a.name) for a in status.choices] + [
        (NEW_ACCOUNT, _("A new diamonds account"))
    ]
    if status.account is not None and not form.is_submitted():
        form.account.data = status.account.id
    return form


def _page(status: clan_link.LinkStatus, form: LinkForm, code: int) -> tuple[str, int]:
    return render_template(
        "book/link/index.html", status=status, form=form, off=OffForm(formdata=None)
    ), code


@bp.get("/clan-link")
@book_view
def clan_link_page() -> tuple[str, int]:
    status = clan_link.link_status(db.session, user_id())
    return _page(status, _form(status, formdata=None), 200)


@bp.post("/clan-link")
@book_view
def clan_link_enable() -> Response | tuple[str, int]:
    status = clan_link.link_status(db.session, user_id())
    form = _form(status)
    refused = False
    if form.validate_on_submit():
        choice = form.account.data
        try:
            account = clan_link.enable(
                db.session, user_id(), None if choice == NEW_ACCOUNT else choice
            )
        except (ValidationError, Conflict) as error:
            show_service_error(form, error)
            refused = True
        else:
            flash(_("The clan link writes to %(account)s.", account=account.name), "success")
            return redirect(url_for("book.clan_link_page"))
    return _page(status, form, form_page_status(form, refused))


@bp.post("/clan-link/off")
@book_view
def clan_link_disable() -> Response | tuple[str, int]:
    form = OffForm()
    if not form.validate_on_submit():
        status = clan_link.link_status(db.session, user_id())
        return _page(status, _form(status, formdata=None), 400)
    try:
        count = clan_link.disable(db.session, user_id())
    except Conflict as error:
        flash(service_message(error), "danger")
        return redirect(url_for("book.clan_link_page"))
    flash(_("The clan link is off: %(count)d mirrored lines removed.", count=count), "success")
    return redirect(url_for("book.clan_link_page"))


def _home(session: Any, me: int) -> dict[str, Any]:
    status = clan_link.link_status(session, me, with_statements=False)
    return {"enabled": status.enabled, "account": status.account, "clans": status.clans}


register_home_panel("book/link/_home_clan.html", _home, order=30)
