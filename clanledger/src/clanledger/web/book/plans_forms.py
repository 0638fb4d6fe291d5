"""The forms of the budgets and recurring pages, and the words that describe a rule."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from babel.dates import format_skeleton
from flask_babel import format_date, get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from clanledger.domain.book.kinds import Frequency, TxnKind
from clanledger.domain.book.recurring import MAX_EVERY
from clanledger.services.book.recurring import RuleInput
from clanledger.web.forms import BoundedDateField, WholeNumberField, select_choices


def optional_id(value: Any) -> int | None:
    """A select's value as a row id; empty is None (WTForms then checks the choice)."""
    if value in (None, "", "None"):
        return None
    return int(value)


class BudgetForm(FlaskForm):
    """Set a category's limit for the month shown, or for every month."""

    category_id = SelectField(_l("Category"), coerce=int, validators=[InputRequired()])
    amount = StringField(
        _l("Limit"), validators=[DataRequired(), Length(max=40)], render_kw={"inputmode": "decimal"}
    )
    scope = RadioField(
        _l("Applies to"),
        choices=select_choices((("month", _l("This month")), ("every", _l("Every month")))),
        default="month",
    )
    month = HiddenField()


class CopyForm(FlaskForm):
    month = HiddenField()


def _version(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


class ActionForm(FlaskForm):
    """A one-button POST (pause, resume, delete): only the CSRF token and the version."""

    version = HiddenField()

    def expected_version(self) -> int | None:
        return _version(self.version.data)


class RuleForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=64)], render_kw={"placeholder": "房租"}
    )
    kind = SelectField(
        _l("Kind"),
        choices=select_choices(
            (
                (TxnKind.EXPENSE.value, _l("Expense")),
                (TxnKind.INCOME.value, _l("Income")),
                (TxnKind.TRANSFER.value, _l("Transfer (e.g. a card payment)")),
            )
        ),
    )
    amount = StringField(
        _l("Amount"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"inputmode": "decimal"},
    )
    account_id = SelectField(_l("Account"), coerce=int, validators=[InputRequired()])
    category_id = SelectField(
        _l("Category"), coerce=optional_id, description=_l("For an expense or an income.")
    )
    to_account_id = SelectField(
        _l("To account"), coerce=optional_id, description=_l("For a transfer.")
    )
    payee = StringField(_l("Payee"), validators=[Optional(), Length(max=128)])
    frequency = SelectField(
        _l("Repeats"),
        choices=select_choices(
            (
                (Frequency.MONTHLY.value, _l("Monthly")),
                (Frequency.WEEKLY.value, _l("Weekly")),
                (Frequency.YEARLY.value, _l("Yearly")),
            )
        ),
        default=Frequency.MONTHLY.value,
    )
    every = WholeNumberField(
        _l("Every"),
        default=1,
        validators=[InputRequired(), NumberRange(min=1, max=MAX_EVERY)],
        description=_l("1 = every week, month or year; 2 = every other one."),
    )
    day = WholeNumberField(
        _l("Day of the month"),
        validators=[Optional(), NumberRange(min=1, max=31)],
        description=_l("31 = the last day of every month. Empty: the start date's day."),
    )
    starts_on = BoundedDateField(
        _l("Starts on"),
        validators=[InputRequired()],
        description=_l("Dates from the start up to today are added at once."),
    )
    ends_on = BoundedDateField(_l("Ends on"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    version = HiddenField()

    def to_input(self) -> RuleInput:
        """The form's values for the service (which checks them against the book)."""
        return RuleInput(
            name=self.name.data or "",
            kind=self.kind.data or "",
            amount=self.amount.data or "",
            account_id=self.account_id.data,
            frequency=self.frequency.data or "",
            starts_on=self.starts_on.data,
            every=self.every.data,
            day=self.day.data,
            category_id=self.category_id.data,
            to_account_id=self.to_account_id.data,
            payee=self.payee.data or "",
            note=self.note.data or "",
            ends_on=self.ends_on.data,
        )

    def expected_version(self) -> int | None:
        return _version(self.version.data)


def describe_schedule(frequency: Frequency | str, every: int, day: int | None, start: date) -> str:
    """``每月 5 日`` / ``Every 2 weeks on Monday``: how often a rule repeats, in words."""
    frequency = Frequency(frequency)
    if frequency is Frequency.WEEKLY:
        weekday = format_date(start, "EEEE")
        if every == 1:
            return gettext("Every week on %(weekday)s", weekday=weekday)
        return gettext("Every %(n)d weeks on %(weekday)s", n=every, weekday=weekday)
    day = day or start.day
    if frequency is Frequency.MONTHLY:
        if day >= 31 and every == 1:
            return gettext("Monthly, on the last day")
        if day >= 31:
            return gettext("Every %(n)d months, on the last day", n=every)
        if every == 1:
            return gettext("Monthly, on day %(day)d", day=day)
        return gettext("Every %(n)d months, on day %(day)d", n=every, day=day)
    # 2000 is a leap year: a rule on Feb 29 is named so (it falls on Feb 28 in other years).
    last = calendar.monthrange(2000, start.month)[1]
    shown = format_skeleton(
        "MMMd", date(2000, start.month, min(day, last)), locale=str(get_locale() or "zh_Hant")
    )
    if every == 1:
        return gettext("Yearly, on %(date)s", date=shown)
    return gettext("Every %(n)d years, on %(date)s", n=every, date=shown)
