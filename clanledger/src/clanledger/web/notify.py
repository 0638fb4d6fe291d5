"""Clan chat: the clan's webhooks (Discord or a signed generic JSON endpoint), the events
each one hears, and the delivery log."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange
from wtforms.widgets import CheckboxInput, ListWidget

from clanledger.domain.notify import EVENT_LABELS, MAX_URL_LENGTH, UNSOLD_DAYS, WebhookKind
from clanledger.extensions import db
from clanledger.i18n import current_locale_code
from clanledger.models import Role
from clanledger.services import notify
from clanledger.services.errors import Conflict, ValidationError
from clanledger.web.forms import (
    WholeNumberField,
    form_page_status,
    select_choices,
    show_service_error,
)
from clanledger.web.nav import register_nav_parent
from clanledger.web.scoping import clan_view

bp = Blueprint("notify", __name__)
register_nav_parent("notify", "dashboard.index")  # reached from the dashboard and settings

KIND_LABELS = {
    WebhookKind.DISCORD: _l("Discord webhook"),
    WebhookKind.GENERIC: _l("Generic JSON (LINE bot or any bot), signed"),
}
LOCALE_LABELS = {"zh_Hant": "繁體中文", "en": "English"}


def chat_text(event: str, data: dict) -> str:
    """The clan-chat message of ``event`` in the reader's language, as a webhook gets it:
    for the copy buttons of clans without a webhook."""
    locale = current_locale_code()
    public_url = current_app.config.get("PUBLIC_URL") or request.host_url
    return notify.render(event, data, locale if locale in notify.LOCALES else "zh_Hant", public_url)


class WebhookForm(FlaskForm):
    kind = SelectField(
        _l("Kind"), choices=select_choices((k.value, label) for k, label in KIND_LABELS.items())
    )
    url = StringField(
        _l("Webhook address"), validators=[DataRequired(), Length(max=MAX_URL_LENGTH)]
    )
    events = SelectMultipleField(
        _l("Events"),
        choices=select_choices((e.value, _l(label)) for e, label in EVENT_LABELS.items()),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired(message=_l("Choose at least one event from the list."))],
    )
    locale = SelectField(_l("Language"), choices=select_choices(LOCALE_LABELS.items()))
    unsold_days = WholeNumberField(
        _l("Remind of an unsold item after (days)"),
        default=7,
        validators=[InputRequired(), NumberRange(*UNSOLD_DAYS)],
    )


class RemoveForm(FlaskForm):
    pass


@bp.route("/clans/<int:clan_id>/webhooks", methods=["GET", "POST"])
@clan_view(Role.OFFICER)
def webhooks(clan_id: int) -> tuple[str, int]:
    form = WebhookForm()
    secret, refused, added = None, False, False
    if form.validate_on_submit():
        try:
            _hook, secret = notify.add_webhook(
                db.session,
                current_user.id,
                clan_id,
                kind=form.kind.data,
                url=form.url.data,
                events=list(form.events.data or []),
                locale=form.locale.data,
                unsold_days=form.unsold_days.data,
                allow_internal=current_app.config.get("WEBHOOKS_ALLOW_INTERNAL", False),
            )
        except (ValidationError, Conflict) as error:
            show_service_error(form, error)
            refused = True
        else:
            flash(_("Webhook added."), "success")
            form, added = WebhookForm(formdata=None), True
    status = 200 if added else form_page_status(form, refused)
    hooks, log = notify.webhooks_page(db.session, current_user.id, clan_id)
    return render_template(
        "notify/webhooks.html",
        form=form,
        remove_form=RemoveForm(),
        hooks=hooks,
        log=log,
        secret=secret,
        event_labels=EVENT_LABELS,
        kind_labels=KIND_LABELS,
    ), status


@bp.post("/clans/<int:clan_id>/webhooks/<int:webhook_id>/remove")
@clan_view(Role.OFFICER)
def remove_webhook(clan_id: int, webhook_id: int) -> Response:
    if RemoveForm().validate_on_submit():
        notify.remove_webhook(db.session, current_user.id, clan_id, webhook_id)
        flash(_("Webhook removed."), "success")
    return redirect(url_for("notify.webhooks", clan_id=clan_id))
