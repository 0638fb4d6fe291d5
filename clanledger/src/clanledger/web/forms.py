"""Helpers shared by the blueprints' Flask-WTF forms."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.validators import ValidationError as FieldError

from clanledger.domain.errors import InvalidRate
from clanledger.domain.money import Rate
from clanledger.services.errors import ServiceError, ValidationError

try:  # WTForms 3.3+
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older WTForms take tuples
    SelectChoice = None  # type: ignore[assignment,misc]


def show_service_error(form: FlaskForm, error: ServiceError) -> None:
    """Put a service error on the form: under its field when it names one, else on top.

    Service messages are English msgids marked with ``N_``; they are translated here.
    """
    message = gettext(error.message)
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
