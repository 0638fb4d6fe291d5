"""The account's personal access tokens for the REST API: make one (its secret is shown
once), see when each was last used, revoke one."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from clanledger.extensions import db
from clanledger.models import TokenScope
from clanledger.models.types import utcnow
from clanledger.services import api_tokens
from clanledger.services.errors import NotFound, ValidationError
from clanledger.web.forms import form_page_status, select_choices, show_service_error

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


class TokenForm(FlaskForm):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("What uses it, e.g. the clan's LINE bot."),
    )
    scope = SelectField(
        _l("Access"),
        choices=select_choices(
            [
                (TokenScope.READ.value, _l("Read only")),
                (TokenScope.WRITE.value, _l("Read and write")),
            ]
        ),
        default=TokenScope.READ.value,
    )
    days = SelectField(
        _l("Expires"),
        choices=select_choices(
            [
                ("30", _l("In 30 days")),
                ("90", _l("In 90 days")),
                ("365", _l("In a year")),
                ("", _l("Never")),
            ]
        ),
        default="90",
    )
    personal = BooleanField(
        _l("also my personal book (記帳)"),
        default=False,
        description=_l("Lets it read and record your own spending. Clan bots do not need it."),
    )
    submit = SubmitField(_l("Create token"))


@bp.route("", methods=["GET", "POST"])
@login_required
def index() -> tuple[str, int]:
    form = TokenForm()
    refused, secret = False, None
    if form.validate_on_submit():
        try:
            days = int(form.days.data) if form.days.data else None
            _token, secret = api_tokens.create_token(
                db.session,
                current_user.id,
                form.name.data,
                form.scope.data,
                days,
                personal=bool(form.personal.data),
            )
        except ValidationError as error:
            show_service_error(form, error)
            refused = True
        else:
            form = TokenForm(formdata=None)
    status = 200 if secret else form_page_status(form, refused)
    tokens = api_tokens.live_tokens(db.session, current_user.id)
    page = render_template(
        "tokens/index.html", form=form, tokens=tokens, secret=secret, now=utcnow()
    )
    return page, status


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> Response:
    try:
        token = api_tokens.revoke_token(db.session, current_user.id, token_id)
    except NotFound:
        flash(_("This token does not exist or was revoked already."), "warning")
    else:
        flash(_("Token “%(name)s” revoked: it no longer works.", name=token.name), "success")
    return redirect(url_for("tokens.index"))
