"""Drops: the item list, recording a drop at a kill, and the item page where the holder or
an officer lists, sells, marks unsold, stores or sells it internally; officers correct or
void a sale with a reason."""

from __future__ import annotations

from flask import Blueprint, Response, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    SelectField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from clanledger.domain.money import MAX_PRICE, MIN_PRICE
from clanledger.extensions import db
from clanledger.i18n import format_bps
from clanledger.models import Character, DropStatus, Role
from clanledger.models.types import utcnow
from clanledger.services import bosses, drops, kills, rates, sales, statements
from clanledger.services.errors import ServiceError
from clanledger.services.periods import local_day
from clanledger.web.forms import (
    INVALID_FORM_STATUS,
    WholeNumberField,
    handle_form,
    to_utc,
    within_clan_history,
)
from clanledger.web.nav import register_nav
from clanledger.web.params import id_arg, page_arg
from clanledger.web.scoping import clan_view

bp = Blueprint("drops", __name__)
register_nav("drops.index", _l("Items"), min_role=Role.MEMBER, order=30)


STATUS_BADGES = {
    DropStatus.HELD: (_l("held"), "text-bg-secondary"),
    DropStatus.LISTED: (_l("listed"), "text-bg-info"),
    DropStatus.UNSOLD: (_l("unsold"), "text-bg-warning"),
    DropStatus.SOLD: (_l("sold"), "text-bg-success"),
    DropStatus.BOUGHT: (_l("bought internally"), "text-bg-success"),
    DropStatus.STORED: (_l("in storage"), "text-bg-light border"),
    DropStatus.AUCTION: (_l("in an internal auction"), "text-bg-primary"),
}
STATUS_FILTERS = {
    "open": drops.OPEN_STATUSES,
    "sold": (DropStatus.SOLD, DropStatus.BOUGHT),
    "stored": (DropStatus.STORED,),
    "check": (DropStatus.SOLD,),  # sold for an amount that differs from the expected one
    "all": None,
}


@bp.app_template_global()
def drop_status_badge(status: DropStatus | str) -> tuple[str, str]:
    """``(label, css class)`` of an item state, for the status badge macro."""
    label, css = STATUS_BADGES[DropStatus(status)]
    return str(label), css


def _price(label: str, required: bool = True) -> WholeNumberField:
    return WholeNumberField(
        label,
        validators=[
            InputRequired() if required else Optional(),
            NumberRange(min=MIN_PRICE, max=MAX_PRICE),
        ],
        render_kw={"inputmode": "numeric", "min": 1},
    )


class VersionedForm(FlaskForm):
    version = HiddenField()

    def expected_version(self) -> int | None:
        return int(self.version.data) if (self.version.data or "").isdigit() else None


class ListForm(VersionedForm):
    asking_price = _price(_l("Asking price (diamonds)"))
    submit = SubmitField(_l("List on the exchange"))


class SellForm(VersionedForm):
    gross_price = _price(_l("Sold at (listing price)"))
    sold_at = DateTimeLocalField(
        _l("When it sold"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional(), within_clan_history],
        description=_l("Leave empty for now. The exchange fee in force that day applies."),
    )
    received = WholeNumberField(
        _l("Diamonds actually received"),
        validators=[InputRequired(), NumberRange(min=0, max=MAX_PRICE)],
        render_kw={"inputmode": "numeric", "min": 0},
        description=_l("As shown in the game, after the exchange fee."),
    )
    # Shown only after an amount that differs from what the exchange should have paid.
    confirm_amount = BooleanField(_l("Yes, this is the amount I received"))
    submit = SubmitField(_l("Record sale"))


class BuyForm(VersionedForm):
    buyer_character_id = SelectField(_l("Buyer"), coerce=int, validators=[InputRequired()])
    price = _price(_l("Agreed price (diamonds)"))
    submit = SubmitField(_l("Record internal purchase"))


class ActionForm(VersionedForm):
    """Unsold / store: a button with the item version."""


class CorrectForm(FlaskForm):
    gross_price = _price(_l("Sold at (listing price)"))
    received = WholeNumberField(
        _l("Diamonds actually received"),
        validators=[InputRequired(), NumberRange(min=0, max=MAX_PRICE)],
        render_kw={"inputmode": "numeric"},
    )
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Correct sale"))


class VoidForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Undo sale"))


@bp.get("/clans/<int:clan_id>/drops")
@clan_view(Role.MEMBER)
def index(clan_id: int) -> str:
    status = request.args.get("status", "open")
    if status not in STATUS_FILTERS:
        status = "open"
    where = drops.DropFilter(
        statuses=STATUS_FILTERS[status],
        holder_character_id=id_arg("holder"),
        boss_id=id_arg("boss"),
        mine=request.args.get("mine") == "1",
        search=(request.args.get("q") or "")[:64],
        to_check=status == "check",
    )
    result = drops.drop_page(db.session, current_user.id, clan_id, where, page_arg())
    roster = kills.roster(db.session, current_user.id, clan_id)
    return render_template(
        "drops/index.html",
        result=result,
        where=where,
        status=status,
        filters=STATUS_FILTERS,
        names={c.id: c.name for c in roster},
        bosses=bosses.list_bosses(db.session, current_user.id, clan_id, include_inactive=True),
    )


def _forms(
    drop, roster: list[Character], expected: int | None = None, **given: FlaskForm
) -> dict[str, FlaskForm]:
    """Every action form of the item page; ``given`` replaces the one that was posted.
    The sale form starts with what the exchange should pay (``expected``)."""
    version = str(drop.version)
    sale = drop.sale
    sell = SellForm(
        formdata=None, version=version, gross_price=drop.asking_price, received=expected
    )
    del sell.confirm_amount  # asked only when a posted amount differs
    forms: dict[str, FlaskForm] = {
        "list": ListForm(formdata=None, version=version, asking_price=drop.asking_price),
        "sell": sell,
        "buy": BuyForm(formdata=None, version=version),
        "action": ActionForm(formdata=None, version=version),
        "correct": CorrectForm(
            formdata=None,
            gross_price=sale.gross_price if sale else None,
            received=sale.received if sale else None,
        ),
        "void": VoidForm(formdata=None),
    }
    forms.update(given)
    forms["buy"].buyer_character_id.choices = [(c.id, c.name) for c in roster]
    return forms


def _render(clan_id: int, drop_id: int, status: int = 200, **given: FlaskForm) -> tuple[str, int]:
    drop = drops.get_drop(db.session, current_user.id, clan_id, drop_id)
    roster = kills.roster(db.session, current_user.id, clan_id)
    names = {c.id: c.name for c in roster}
    holder = drops.holder_of(db.session, drop)
    today = local_day(g.clan, utcnow())
    rates = _rates(clan_id, today)
    may_act = g.membership.role.rank >= Role.OFFICER.rank or (
        holder is not None and holder.user_id == current_user.id
    )
    sale = drop.sale
    expected = (
        sales.expected_received(drop.asking_price, rates) if rates and drop.asking_price else None
    )
    return render_template(
        "drops/show.html",
        drop=drop,
        sale=sale,
        holder=holder,
        names=names,
        rates=rates,
        expected=expected,
        mismatch=sales.is_mismatch(sale) if sale else False,
        breakdown=statements.sale_breakdown(db.session, current_user.id, clan_id, drop_id)
        if sale
        else [],
        may_act=may_act,
        officer=g.membership.role.rank >= Role.OFFICER.rank,
        forms=_forms(drop, roster, expected, **given),
    ), status


def _rates(clan_id: int, day) -> rates.Rates | None:
    try:
        return rates.rates_on(db.session, clan_id, day)
    except ServiceError:
        return None


@bp.get("/clans/<int:clan_id>/drops/<int:drop_id>")
@clan_view(Role.MEMBER)
def show(clan_id: int, drop_id: int) -> tuple[str, int]:
    return _render(clan_id, drop_id)


def _act(clan_id: int, drop_id: int, key: str, form: FlaskForm, action, done: str):
    """:func:`handle_form` on the item page: redirect with ``done``, or show the page again
    with the posted ``form`` under ``key``."""
    status = handle_form(
        form, action, done, lambda _: url_for("drops.show", clan_id=clan_id, drop_id=drop_id)
    )
    if isinstance(status, Response):
        return status
    return _render(clan_id, drop_id, status, **{key: form})


@bp.post("/clans/<int:clan_id>/drops/<int:drop_id>/list")
@clan_view(Role.MEMBER)
def list_item(clan_id: int, drop_id: int) -> Response | tuple[str, int]:
    form = ListForm()
    return _act(
        clan_id,
        drop_id,
        "list",
        form,
        lambda: drops.list_drop(
            db.session,
            current_user.id,
            clan_id,
            drop_id,
            form.asking_price.data,
            expected_version=form.expected_version(),
        ),
        _("Listed on the exchange."),
    )


@bp.post("/clans/<int:clan_id>/drops/<int:drop_id>/unsold")
@clan_view(Role.MEMBER)
def unsold(clan_id: int, drop_id: int) -> Response | tuple[str, int]:
    form = ActionForm()
    return _act(
        clan_id,
        drop_id,
        "action",
        form,
        lambda: drops.mark_unsold(
            db.session, current_user.id, clan_id, drop_id, form.expected_version()
        ),
        _("Marked unsold: list it again when you are ready."),
    )


@bp.post("/clans/<int:clan_id>/drops/<int:drop_id>/store")
@clan_view(Role.MEMBER)
def store(clan_id: int, drop_id: int) -> Response | tuple[str, int]:
    form = ActionForm()
    return _act(
        clan_id,
        drop_id,
        "action",
        form,
        lambda: drops.store_drop(
            db.session, current_user.id, clan_id, drop_id, form.expected_version()
        ),
        _("Put into clan storage."),
    )


@bp.post("/clans/<int:clan_id>/drops/<int:drop_id>/sell")
@clan_view(Role.MEMBER)
def sell(clan_id: int, drop_id: int) -> Response | tuple[str, int]:
    form = SellForm()
    if form.is_submitted() and form.validate() and _unconfirmed_mismatch(form, clan_id):
        return _render(clan_id, drop_id, INVALID_FORM_STATUS, sell=form)
    return _act(
        clan_id,
        drop_id,
        "sell",
        form,
        lambda: sales.record_sale(
            db.session,
            current_user.id,
            clan_id,
            drop_id,
            received=form.received.data,
            gross_price=form.gross_price.data,
            sold_at=to_utc(form.sold_at.data, g.clan.timezone) if form.sold_at.data else None,
            expected_version=form.expected_version(),
        ),
        _("Sale recorded and shared out."),
    )


def _unconfirmed_mismatch(form: SellForm, clan_id: int) -> bool:
    """Whether the typed amount differs from what the exchange pays for the price on the
    sale's day and the seller has not confirmed it yet; then the form says so."""
    sold_at = to_utc(form.sold_at.data, g.clan.timezone) if form.sold_at.data else utcnow()
    day_rates = _rates(clan_id, local_day(g.clan, sold_at))
    if day_rates is None or form.confirm_amount.data:
        return False
    expected = sales.expected_received(form.gross_price.data, day_rates)
    if form.received.data == expected:
        return False
    form.received.errors = [
        _(
            "At %(rate)s fee the exchange pays %(expected)s for %(price)s, not %(received)s. "
            "Check the amount, or confirm it below.",
            rate=format_bps(day_rates.fee.bps),
            expected=f"{expected:,}",
            price=f"{form.gross_price.data:,}",
            received=f"{form.received.data:,}",
        )
    ]
    return True


@bp.post("/clans/<int:clan_id>/drops/<int:drop_id>/buy")
@clan_view(Role.MEMBER)
def buy(clan_id: int, drop_id: int) -> Response | tuple[str, int]:
    form = BuyForm()
    form.buyer_character_id.choices = [
        (c.id, c.name) for c in kills.roster(db.session, current_user.id, clan_id)
    ]
    return _act(
        clan_id,
        drop_id,
        "buy",
        form,
        lambda: sales.record_internal_purchase(
            db.session,
            current_user.id,
            clan_id,
            drop_id,
            buyer_character_id=form.buyer_character_id.data,
            price=form.price.data,
            expected_version=form.expected_version(),
        ),
        _("Internal purchase recorded and shared out."),
    )


@bp.post("/clans/<int:clan_id>/drops/<int:drop_id>/correct")
@clan_view(Role.OFFICER)
def correct(clan_id: int, drop_id: int) -> Response | tuple[str, int]:
    form = CorrectForm()
    return _act(
        clan_id,
        drop_id,
        "correct",
        form,
        lambda: sales.correct_sale(
            db.session,
            current_user.id,
            clan_id,
            drop_id,
            received=form.received.data,
            gross_price=form.gross_price.data,
            reason=form.reason.data,
        ),
        _("Sale corrected: the old entry was reversed and the new one posted."),
    )


@bp.post("/clans/<int:clan_id>/drops/<int:drop_id>/void")
@clan_view(Role.OFFICER)
def void(clan_id: int, drop_id: int) -> Response | tuple[str, int]:
    form = VoidForm()
    return _act(
        clan_id,
        drop_id,
        "void",
        form,
        lambda: sales.void_sale(
            db.session, current_user.id, clan_id, drop_id, reason=form.reason.data
        ),
        _("Sale undone: its entry was reversed."),
    )
