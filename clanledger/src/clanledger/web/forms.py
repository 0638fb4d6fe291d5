"""Helpers shared by the blueprints' Flask-WTF forms.

Status-code policy of a page with a form (:func:`handle_form`): the page shown for a GET is
200; a POSTed form that fails its own validation is shown again with 400 (Bad Request); a
valid form that a service refuses (:class:`ValidationError` or :class:`Conflict`) is shown
again, the service's message under its field, with 409 (Conflict). A success flashes a
message and redirects (303 See Other is not used: browsers follow the 302 the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import Response, flash, redirect
from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.validators import ValidationError as FieldError

from clanledger.domain.errors import InvalidRate
from clanledger.domain.money import Rate
from clanledger.i18n import service_message
from clanledger.models.types import utcnow
from clanledger.services.errors import Conflict, ServiceError, ValidationError

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
