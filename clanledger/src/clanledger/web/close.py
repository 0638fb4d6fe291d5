"""The month-end close: the periods, the plan with its saving, confirm and reopen."""

from __future__ import annotations

from flask import Blueprint, g, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, HiddenField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from clanledger.domain.ledger import AccountKind
from clanledger.domain.savings import SAVING_DEFINITION, SAVING_IS_A_COST
from clanledger.domain.wallets import WALLET_SAVING_DEFINITION
from clanledger.extensions import db
from clanledger.i18n import format_diamonds, format_month, shown_account_label
from clanledger.models import Role
from clanledger.services import close, close_preview, notify
from clanledger.services.periods import list_periods, month_has_ended
from clanledger.web.forms import handle_form
from clanledger.web.nav import register_nav
from clanledger.web.notify import chat_text
from clanledger.web.scoping import clan_view

bp = Blueprint("close", __name__)
register_nav("close.index", _l("Month-end close"), min_role=Role.OFFICER, order=60)


class ConfirmCloseForm(FlaskForm):
    """The close asks for a tick that restates what it does (no JavaScript needed); before
    the month's last day the leader also says why it closes early."""

    digest = HiddenField()
    plan = HiddenField()
    early_reason = StringField(
        _l("Why close this month before it has ended?"),
        validators=[Optional(), Length(max=500)],
    )
    confirmed = BooleanField(_l("I have checked the plan"), validators=[DataRequired()])
    submit = SubmitField(_l("Close the period and create these transfers"))


def _restate(form: ConfirmCloseForm, preview: close_preview.ClosePreview, ended: bool) -> None:
    """Word the tick box with the month, the number of transfers and the total they move;
    drop the early-close reason once the month has ended."""
    form.confirmed.label.text = ngettext(
        "Close %(month)s: %(num)s transfer moving %(total)s diamonds in all.",
        "Close %(month)s: %(num)s transfers moving %(total)s diamonds in all.",
        len(preview.transfers),
        month=format_month(preview.period.starts_on),
        total=format_diamonds(sum(line.gross for line in preview.transfers)),
    )
    if ended:
        del form.early_reason


class ReopenForm(FlaskForm):
    reason = StringField(_l("Why reopen?"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Reopen the period"))


@bp.get("/clans/<int:clan_id>/periods")
@clan_view(Role.OFFICER)
def index(clan_id: int) -> str:
    rows = list_periods(db.session, current_user.id, clan_id)
    return render_template("close/index.html", rows=rows)


def _render(clan_id: int, period_id: int, status: int = 200, **forms: FlaskForm):
    preview = close.preview_close(db.session, current_user.id, clan_id, period_id)
    confirm_form = forms.get("confirm_form") or ConfirmCloseForm(formdata=None)
    confirm_form.digest.data = preview.digest
    confirm_form.plan.data = preview.plan_code
    ended = month_has_ended(g.clan, preview.period)
    _restate(confirm_form, preview, ended)
    reopen_form = forms.get("reopen_form") or ReopenForm(formdata=None)
    page = render_template(
        "close/show.html",
        preview=preview,
        confirm_form=confirm_form,
        reopen_form=reopen_form,
        month_ended=ended,
        chat_text=chat_text("month_closed", notify.month_data(preview.period, preview.transfers)),
    )
    return page, status


@bp.get("/clans/<int:clan_id>/periods/<int:period_id>")
@clan_view(Role.OFFICER)
def show(clan_id: int, period_id: int):
    return _render(clan_id, period_id)


@bp.post("/clans/<int:clan_id>/periods/<int:period_id>/close")
@clan_view(Role.OFFICER)
def confirm(clan_id: int, period_id: int) -> Response | tuple[str, int]:
    form = ConfirmCloseForm()
    status = handle_form(
        form,
        lambda: close.confirm_close(
            db.session,
            current_user.id,
            clan_id,
            period_id,
            form.digest.data or None,
            form.plan.data if form.plan.raw_data else None,  # absent: no plan to hold to
            early_reason=form.early_reason.data,
        ),
        _("Period closed: the transfers are planned and the next period is open."),
        lambda _: url_for("close.show", clan_id=clan_id, period_id=period_id),
    )
    if isinstance(status, Response):
        return status
    return _render(clan_id, period_id, status, confirm_form=form)


@bp.post("/clans/<int:clan_id>/periods/<int:period_id>/reopen")
@clan_view(Role.LEADER)
def reopen(clan_id: int, period_id: int) -> Response | tuple[str, int]:
    form = ReopenForm()
    status = handle_form(
        form,
        lambda: close.reopen_period(
            db.session, current_user.id, clan_id, period_id, form.reason.data
        ),
        _("Period reopened: its opening balances were reversed."),
        lambda _: url_for("close.show", clan_id=clan_id, period_id=period_id),
    )
    if isinstance(status, Response):
        return status
    return _render(clan_id, period_id, status, reopen_form=form)


POLICY_LABELS = {
    "payer": _l("the payer"),
    "receiver": _l("the receiver"),
    "fund": _l("the clan fund"),
}


@bp.record_once
def _saving_texts(state) -> None:
    """The saving's one definition (the domain's) and its cost wording, for the pages."""
    state.app.jinja_env.globals.update(
        SAVING_DEFINITION=SAVING_DEFINITION,
        SAVING_IS_A_COST=SAVING_IS_A_COST,
        WALLET_SAVING_DEFINITION=WALLET_SAVING_DEFINITION,
    )


@bp.app_template_global()
def policy_label(policy: object) -> str:
    """Who bears the exchange fee, in words."""
    return str(POLICY_LABELS.get(str(getattr(policy, "value", policy)), policy))


@bp.app_template_global()
def why_label(item: close_preview.WhyItem) -> str:
    """One balance of a transfer's group; the treasurer's includes the clan fund's."""
    if item.kind != AccountKind.MEMBER:
        return shown_account_label(item.kind)
    return _("%(name)s (with the clan fund)", name=item.name) if item.with_fund else item.name
