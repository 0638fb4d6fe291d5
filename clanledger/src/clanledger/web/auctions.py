"""Internal auctions (內標): the list, opening one on an item, bidding from a phone,
cancelling with a reason, and the clan's bidding allowance."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, g, render_template, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from clanledger.domain.auction import Eligibility
from clanledger.domain.money import MAX_PRICE, MIN_PRICE
from clanledger.extensions import db
from clanledger.i18n import service_message
from clanledger.models import AuctionStatus, Role
from clanledger.services import auction_board, auctions, drops
from clanledger.web.forms import WholeNumberField, handle_form, local_now, select_choices, to_utc
from clanledger.web.nav import register_nav_parent
from clanledger.web.scoping import clan_view

bp = Blueprint("auctions", __name__)
register_nav_parent("auctions", "drops.index")  # the auctions are reached from the items

STATUS_LABELS = {
    AuctionStatus.OPEN: (_l("bidding"), "text-bg-primary"),
    AuctionStatus.WON: (_l("won"), "text-bg-success"),
    AuctionStatus.NO_BIDS: (_l("no bids"), "text-bg-secondary"),
    AuctionStatus.CANCELLED: (_l("cancelled"), "text-bg-warning"),
}
ELIGIBILITY_LABELS = {
    Eligibility.CLAN: _l("The whole clan"),
    Eligibility.ATTENDEES: _l("Only members who were at the kill"),
}
STANDING_LABELS = {
    auction_board.Standing.LEADING: (_l("You are the highest bidder."), "success"),
    auction_board.Standing.OUTBID: (_l("You have been outbid."), "warning"),
    auction_board.Standing.SEALED: (_l("Your sealed bid is in. Results show at the end."), "info"),
    auction_board.Standing.WON: (_l("You won this auction."), "success"),
    auction_board.Standing.LOST: (_l("Another member won this auction."), "secondary"),
}


@bp.app_template_global()
def auction_status_badge(status: AuctionStatus | str) -> tuple[str, str]:
    label, css = STATUS_LABELS[AuctionStatus(status)]
    return str(label), css


@bp.app_template_filter("time_left")
def time_left(value: timedelta) -> str:
    """A running auction's time left in its two largest units, rounded down (under a
    minute: "less than a minute")."""
    if value < timedelta(minutes=1):
        return _("less than a minute")
    minutes = int(value.total_seconds()) // 60
    parts = [(minutes // 1440, "day"), (minutes // 60 % 24, "hour"), (minutes % 60, "minute")]
    units = {"day": timedelta(days=1), "hour": timedelta(hours=1), "minute": timedelta(minutes=1)}
    shown = [
        format_timedelta(count * units[unit], granularity=unit, threshold=100)
        for count, unit in parts
        if count
    ]
    return " ".join(shown[:2])  # the two largest units: "1 天 12 小時", "3 小時 5 分鐘"


def _minutes(label: str, default: int, description: str = "") -> WholeNumberField:
    return WholeNumberField(
        label,
        default=default,
        description=description,
        validators=[InputRequired(), NumberRange(min=0, max=60)],
        render_kw={"inputmode": "numeric", "min": 0, "max": 60},
    )


class OpenForm(FlaskForm):
    start_price = WholeNumberField(
        _l("Starting price (diamonds)"),
        validators=[InputRequired(), NumberRange(min=MIN_PRICE, max=MAX_PRICE)],
        render_kw={"inputmode": "numeric", "min": 1},
    )
    increment = WholeNumberField(
        _l("Minimum increment (diamonds)"),
        default=10,
        validators=[InputRequired(), NumberRange(min=1, max=MAX_PRICE)],
        render_kw={"inputmode": "numeric", "min": 1},
    )
    ends_at = DateTimeLocalField(
        _l("Ends at"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    eligibility = SelectField(_l("Who may bid"), default=Eligibility.CLAN.value)
    sealed = BooleanField(
        _l("Sealed bids"),
        description=_l("Bidders do not see the price or other bids until the end."),
    )
    snipe_window_minutes = _minutes(
        _l("A bid in the last … minutes"), 5, _l("0 turns the extension off (open bids only).")
    )
    snipe_extension_minutes = _minutes(_l("extends the end to … minutes after it"), 5)
    submit = SubmitField(_l("Open the auction"))


class BidForm(FlaskForm):
    character_id = SelectField(_l("Bid as"), coerce=int, validators=[InputRequired()])
    amount = WholeNumberField(
        _l("Your bid (diamonds)"),
        validators=[InputRequired(), NumberRange(min=MIN_PRICE, max=MAX_PRICE)],
        render_kw={"inputmode": "numeric", "min": 1},
    )
    submit = SubmitField(_l("Place bid"))


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Cancel the auction"))


class CreditForm(FlaskForm):
    credit = WholeNumberField(
        _l("Bidding allowance (diamonds)"),
        validators=[Optional(), NumberRange(min=0)],
        render_kw={"inputmode": "numeric", "min": 0},
        description=_l(
            "A member may bid at most their balance plus this, less their leading bids and "
            "sealed bids in other running auctions. Leave empty for no limit."
        ),
    )
    submit = SubmitField(_l("Save"))


@bp.get("/clans/<int:clan_id>/auctions")
@clan_view(Role.MEMBER)
def index(clan_id: int):
    return _index_page(clan_id)


def _index_page(clan_id: int, credit_form: CreditForm | None = None, status: int = 200):
    result = auction_board.list_auctions(db.session, current_user.id, clan_id)
    form = credit_form or CreditForm(formdata=None, credit=result.credit)
    officer = g.membership.role.rank >= Role.OFFICER.rank
    return render_template(
        "auctions/index.html", result=result, credit_form=form, officer=officer
    ), status


@bp.post("/clans/<int:clan_id>/auctions/credit")
@clan_view(Role.OFFICER)
def credit(clan_id: int):
    form = CreditForm()
    status = handle_form(
        form,
        lambda: auctions.set_auction_credit(db.session, current_user.id, clan_id, form.credit.data),
        _("Bidding allowance saved."),
        lambda _clan: url_for("auctions.index", clan_id=clan_id),
    )
    if isinstance(status, Response):
        return status
    return _index_page(clan_id, form, status)


def _open_form(form: OpenForm | None = None) -> OpenForm:
    if form is None:
        form = OpenForm(formdata=None)
        form.ends_at.data = local_now(g.clan.timezone) + timedelta(days=1)
    form.eligibility.choices = select_choices(
        (value.value, str(label)) for value, label in ELIGIBILITY_LABELS.items()
    )
    return form


@bp.route("/clans/<int:clan_id>/drops/<int:drop_id>/auction", methods=["GET", "POST"])
@clan_view(Role.MEMBER)
def open_auction(clan_id: int, drop_id: int):
    drop = drops.get_drop(db.session, current_user.id, clan_id, drop_id)
    form = _open_form(OpenForm() if request.method == "POST" else None)
    status = handle_form(
        form,
        lambda: auctions.open_auction(
            db.session,
            current_user.id,
            clan_id,
            drop_id,
            start_price=form.start_price.data,
            increment=form.increment.data,
            ends_at=to_utc(form.ends_at.data, g.clan.timezone),
            sealed=form.sealed.data,
            eligibility=Eligibility(form.eligibility.data),
            snipe_window_minutes=form.snipe_window_minutes.data,
            snipe_extension_minutes=form.snipe_extension_minutes.data,
        ),
        _("Auction opened: members can bid now."),
        lambda auction: url_for("auctions.show", clan_id=clan_id, auction_id=auction.id),
    )
    if isinstance(status, Response):
        return status
    return render_template("auctions/open.html", drop=drop, form=form), status


def _render(clan_id: int, auction_id: int, status: int = 200, **given: FlaskForm):
    page = auction_board.auction_page(db.session, current_user.id, clan_id, auction_id)
    bid_form = given.get("bid") or BidForm(formdata=None, amount=page.minimum)
    bid_form.character_id.choices = [(c.id, c.name) for c in page.characters]
    return render_template(
        "auctions/show.html",
        page=page,
        bid_form=bid_form,
        cancel_form=given.get("cancel") or CancelForm(formdata=None),
        eligibility_labels=ELIGIBILITY_LABELS,
        standing_labels=STANDING_LABELS,
        settle_message=service_message(page.settle_error) if page.settle_error else None,
    ), status


@bp.get("/clans/<int:clan_id>/auctions/<int:auction_id>")
@clan_view(Role.MEMBER)
def show(clan_id: int, auction_id: int):
    return _render(clan_id, auction_id)


def _act(clan_id: int, auction_id: int, key: str, form: FlaskForm, action, done: str):
    status = handle_form(
        form,
        action,
        done,
        lambda _: url_for("auctions.show", clan_id=clan_id, auction_id=auction_id),
    )
    if isinstance(status, Response):
        return status
    return _render(clan_id, auction_id, status, **{key: form})


@bp.post("/clans/<int:clan_id>/auctions/<int:auction_id>/bid")
@clan_view(Role.MEMBER)
def bid(clan_id: int, auction_id: int):
    form = BidForm()
    form.character_id.choices = [
        (c.id, c.name) for c in auction_board.own_characters(db.session, current_user.id, clan_id)
    ]
    return _act(
        clan_id,
        auction_id,
        "bid",
        form,
        lambda: auctions.place_bid(
            db.session,
            current_user.id,
            clan_id,
            auction_id,
            character_id=form.character_id.data,
            amount=form.amount.data,
        ),
        _("Bid placed."),
    )


@bp.post("/clans/<int:clan_id>/auctions/<int:auction_id>/cancel")
@clan_view(Role.OFFICER)
def cancel(clan_id: int, auction_id: int):
    form = CancelForm()
    return _act(
        clan_id,
        auction_id,
        "cancel",
        form,
        lambda: auctions.cancel_auction(
            db.session, current_user.id, clan_id, auction_id, reason=form.reason.data
        ),
        _("Auction cancelled: the item is back with its holder."),
    )
