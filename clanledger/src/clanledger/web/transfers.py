"""Settlement transfers: the list (mine, or everyone's for officers), mark paid with an
optional screenshot, confirm received, and the dashboard to-do."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileSize
from werkzeug.wrappers import Response
from wtforms import StringField, SubmitField
from wtforms.validators import Length, NumberRange, Optional

from clanledger.domain.money import MAX_PRICE, MIN_PRICE
from clanledger.extensions import db
from clanledger.i18n import service_message
from clanledger.models import Role, TransferStatus
from clanledger.services import transfers
from clanledger.services.errors import (
    Conflict,
    PermissionDenied,
    ServiceError,
    ValidationError,
)
from clanledger.web.forms import WholeNumberField, handle_form
from clanledger.web.nav import register_nav
from clanledger.web.params import id_arg, page_arg
from clanledger.web.scoping import clan_view

bp = Blueprint("transfers", __name__)
register_nav("transfers.index", _l("Transfers"), min_role=Role.MEMBER, order=55)

STATUS_LABELS = {
    "planned": _l("planned"),
    "paid": _l("paid"),
    "confirmed": _l("confirmed"),
}


class PaidForm(FlaskForm):
    paid_gross = WholeNumberField(
        _l("Price paid"),
        validators=[Optional(), NumberRange(min=MIN_PRICE, max=MAX_PRICE)],
        render_kw={"inputmode": "numeric"},
        description=_l("Leave empty if you paid the planned price."),
    )
    screenshot = FileField(
        _l("Screenshot (optional)"),
        validators=[
            FileAllowed(["png", "jpg", "jpeg", "webp"], _l("A PNG, JPEG or WebP image.")),
            FileSize(max_size=transfers.MAX_SCREENSHOT_BYTES),
        ],
    )
    submit = SubmitField(_l("I paid"))


class ConfirmForm(FlaskForm):
    """The receiver confirms with one tap; an officer confirming for them gives a reason."""

    reason = StringField(
        _l("Why do you confirm for the receiver?"), validators=[Optional(), Length(max=500)]
    )
    submit = SubmitField(_l("I received it"))


def upload_root() -> Path:
    return Path(current_app.instance_path)


STATE_FILTERS: dict[str, tuple[TransferStatus, ...] | None] = {
    "outstanding": transfers.OUTSTANDING,
    "planned": (TransferStatus.PLANNED,),
    "paid": (TransferStatus.PAID,),
    "confirmed": (TransferStatus.CONFIRMED,),
    "all": None,
}
MAX_SEARCH = 64


def _filter() -> tuple[str, transfers.TransferFilter]:
    """The list's filter from the query string; an unknown state shows the outstanding ones
    (``show=all`` is the older spelling of ``state=all``)."""
    state = request.args.get("state") or ("all" if request.args.get("show") == "all" else "")
    if state not in STATE_FILTERS:
        state = "outstanding"
    where = transfers.TransferFilter(
        statuses=STATE_FILTERS[state],
        mine=request.args.get("mine") == "1",
        period_id=id_arg("period"),
        search=(request.args.get("q") or "")[:MAX_SEARCH],
    )
    return state, where


def _render(clan_id: int, status: int = 200, paid_forms: dict | None = None):
    state, where = _filter()
    result = transfers.transfer_page(db.session, current_user.id, clan_id, where, page_arg())
    forms = paid_forms or {}
    for row in result.rows:
        forms.setdefault(row.transfer.id, PaidForm(formdata=None, prefix=f"t{row.transfer.id}"))
    owed = (
        transfers.outstanding_by_member(db.session, current_user.id, clan_id)
        if current_user_is_officer()
        else {}
    )
    page = render_template(
        "transfers/index.html",
        result=result,
        rows=result.rows,
        paid_forms=forms,
        confirm_form=ConfirmForm(formdata=None),
        owed=owed,
        state=state,
        states=STATE_FILTERS,
        where=where,
    )
    return page, status


def current_user_is_officer() -> bool:
    return g.membership.role.rank >= Role.OFFICER.rank


@bp.get("/clans/<int:clan_id>/transfers")
@clan_view(Role.MEMBER)
def index(clan_id: int):
    return _render(clan_id)


@bp.post("/clans/<int:clan_id>/transfers/<int:transfer_id>/paid")
@clan_view(Role.MEMBER)
def paid(clan_id: int, transfer_id: int) -> Response | tuple[str, int]:
    form = PaidForm(prefix=f"t{transfer_id}")
    status = handle_form(
        form,
        lambda: transfers.mark_paid(
            db.session,
            current_user.id,
            clan_id,
            transfer_id,
            paid_gross=form.paid_gross.data,
            screenshot=form.screenshot.data.read() if form.screenshot.data else None,
            upload_root=upload_root(),
        ),
        _("Marked as paid. The receiver confirms when the diamonds arrive."),
        lambda _: url_for("transfers.index", clan_id=clan_id),
    )
    if isinstance(status, Response):
        return status
    return _render(clan_id, status, {transfer_id: form})


@bp.post("/clans/<int:clan_id>/transfers/<int:transfer_id>/confirm")
@clan_view(Role.MEMBER)
def confirm(clan_id: int, transfer_id: int) -> Response:
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            transfers.confirm_received(
                db.session, current_user.id, clan_id, transfer_id, form.reason.data
            )
            flash(_("Confirmed: the transfer is in the ledger."), "success")
        except (ValidationError, Conflict, PermissionDenied) as error:
            flash(service_message(error), "error")
    return redirect(url_for("transfers.index", clan_id=clan_id))


@bp.get("/clans/<int:clan_id>/transfers/<int:transfer_id>/screenshot")
@clan_view(Role.MEMBER)
def screenshot(clan_id: int, transfer_id: int) -> Response:
    path = transfers.screenshot_file(
        db.session, current_user.id, clan_id, transfer_id, upload_root()
    )
    return send_file(path, max_age=0)


@bp.app_template_global()
def transfer_status_label(status: TransferStatus | str) -> str:
    return str(STATUS_LABELS.get(str(getattr(status, "value", status)), status))


@bp.app_template_global()
def transfer_todo(clan_id: int) -> list[transfers.TransferRow]:
    """The signed-in member's transfers to pay or confirm (the dashboard to-do)."""
    try:
        return transfers.my_todo(db.session, current_user.id, clan_id)
    except ServiceError:
        return []
