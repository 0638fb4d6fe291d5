"""Helpers shared by the blueprints' Flask-WTF forms.

Status-code policy of a page with a form (:func:`handle_form`): the page shown for a GET is
200; a POSTed form that fails its own validation is shown again with 400 (Bad Request); a
valid form that a service refuses (:class:`ValidationError` or :class:`Conflict`) is shown
again, the service's message under its field, with 409 (Conflict). A success flashes a
message and redirects (303 See Other is not used: browsers follow the 302 the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import Response, flash, g, redirect
from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import DateField, Field, IntegerField
from wtforms.fields import DecimalField
from wtforms.validators import ValidationError as FieldError

from clanledger.domain.errors import InvalidRate
from clanledger.domain.money import Rate
from clanledger.i18n import service_message
from clanledger.models.types import utcnow
from clanledger.services.errors import Conflict, ServiceError, ValidationError
from clanledger.web.params import MAX_ROW_ID

try:  # WTForms 3.3+
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older WTForms take tuples
    SelectChoice = None  # type: ignore[assignment,misc]


T = TypeVar("T")

PAGE_STATUS = 200
INVALID_FORM_STATUS = 400
REFUSED_STATUS = 409


def handle_form(
    form: FlaskForm,
    action: Callable[[], T],
    done: str | Callable[[T], str],
    next_url: Callable[[T], str],
) -> Response | int:
    """Run ``action()`` if ``form`` was posted and is valid; on success flash ``done`` (or
    ``done(result)``) and redirect to ``next_url(result)``. Otherwise return the status to
    show the page with (see the module's policy); a service's refusal is shown on the form."""
    if not form.is_submitted():
        return PAGE_STATUS
    if not form.validate():
        return INVALID_FORM_STATUS
    try:
        result = action()
    except (ValidationError, Conflict) as error:
        show_service_error(form, error)
        return REFUSED_STATUS
    flash(done(result) if callable(done) else done, "success")
    return redirect(next_url(result))


def form_page_status(form: FlaskForm, refused: bool = False) -> int:
    """The status of a page that handled ``form`` itself, under the module's policy: 200
    when it was not posted, 409 when a service ``refused`` it, else 400 (it failed its own
    validation)."""
    if not form.is_submitted():
        return PAGE_STATUS
    return REFUSED_STATUS if refused else INVALID_FORM_STATUS


def to_utc(local: datetime, timezone: str) -> datetime:
    """A naive datetime typed in the clan's timezone, as an aware datetime."""
    return local.replace(tzinfo=ZoneInfo(timezone))


def local_now(timezone: str) -> datetime:
    """Now in ``timezone``, naive and to the minute (a ``datetime-local`` input's value)."""
    return utcnow().astimezone(ZoneInfo(timezone)).replace(tzinfo=None, second=0, microsecond=0)


def show_service_error(form: FlaskForm, error: ServiceError) -> None:
    """Put a service error on the form: under its field when it names one, else on top.

    Service messages are English msgids marked with ``N_``; they are translated here.
    """
    message = service_message(error)
    field = getattr(error, "field", None) if isinstance(error, ValidationError) else None
    if field and field in form:
        form[field].errors = [*form[field].errors, message]
    else:
        form.form_errors.append(message)


def rate_validator(
    check: Callable[[int], Rate], message: str
) -> Callable[[FlaskForm, Field], None]:
    """A validator for a percentage field: the domain's ``check`` (e.g.
    :func:`~clanledger.domain.fees.require_exchange_fee`) decides; ``message`` (an ``N_``
    msgid) explains."""

    def validate(form: FlaskForm, field: Field) -> None:
        if field.data is None:
            return
        try:
            check(Rate.from_percent(field.data).bps)
        except InvalidRate as exc:
            raise FieldError(gettext(message)) from exc

    return validate


def select_choices(pairs: Iterable[tuple[str, Any]]) -> list[Any]:
    """``(value, label)`` pairs as SelectField choices: ``SelectChoice`` objects on
    WTForms 3.3+ (where tuples are deprecated), plain tuples on older versions."""
    if SelectChoice is None:
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]


# --- fields that no typed value can push past the database ---------------------------------

EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(2099, 12, 31)


class FiniteDecimalField(DecimalField):
    """A DecimalField that refuses ``NaN``, ``sNaN`` and infinities: Python parses them as
    decimals, and every later comparison or conversion would fail."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(gettext("Enter a number (not NaN or infinity)."))


class WholeNumberField(IntegerField):
    """An IntegerField whose value fits the 32-bit integer columns."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not -MAX_ROW_ID - 1 <= self.data <= MAX_ROW_ID:
            self.data = None
            raise ValueError(
                gettext("Enter a whole number no larger than %(max)s.", max=f"{MAX_ROW_ID:,}")
            )


class BoundedDateField(DateField):
    """A DateField between :data:`EARLIEST_DATE` and :data:`LATEST_DATE`."""

    def pre_validate(self, form: FlaskForm) -> None:
        if self.data is not None and not EARLIEST_DATE <= self.data <= LATEST_DATE:
            raise FieldError(
                gettext(
                    "Enter a date from %(start)s to %(end)s.",
                    start=EARLIEST_DATE.isoformat(),
                    end=LATEST_DATE.isoformat(),
                )
            )


def within_clan_history(form: FlaskForm, field: Field) -> None:
    """A moment of the clan's life: from a year before the clan was created to a day from
    now, in the clan's timezone (a typo like year 0001 or 2062 is a form error)."""
    if field.data is None:
        return
    clan = g.clan
    tz = ZoneInfo(clan.timezone)
    earliest = clan.created_at.astimezone(tz).date() - timedelta(days=365)
    latest = local_now(clan.timezone).date() + timedelta(days=1)
    moment = field.data.date() if isinstance(field.data, datetime) else field.data
    if not earliest <= moment <= latest:
        raise FieldError(
            gettext(
                "Enter a date from %(start)s to %(end)s.",
                start=earliest.isoformat(),
                end=latest.isoformat(),
            )
        )
