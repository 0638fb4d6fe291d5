"""Languages and locale-aware formatting.

Traditional Chinese (``zh_Hant``) is the default and English the alternative. The choice is
stored on the signed-in user (``User.locale``) and in the session, so it survives a sign-in.
Dates are shown in the current clan's timezone (``g.clan``), else Asia/Taipei.

Jinja filters: ``diamonds`` (integer with the locale's thousands separator), ``number``,
``percent_bps`` (basis points as a percentage), ``date``, ``datetime``, ``time`` and
``timeago`` (a relative time such as "3 hours ago").
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from babel import support
from babel.dates import format_skeleton
from babel.numbers import get_group_symbol, get_minus_sign_symbol
from flask import Flask, g, has_app_context, has_request_context, request, session
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    format_time,
    format_timedelta,
    get_locale,
    gettext,
    lazy_gettext,
)
from flask_login import current_user
from wtforms.i18n import messages_path

from clanledger.domain import collation
from clanledger.domain.ledger import ACCOUNT_KIND_LABELS, AccountKind, account_label
from clanledger.domain.money import BPS_PER_UNIT
from clanledger.extensions import babel, login_manager
from clanledger.models.types import utcnow

# Code -> name of the language in that language (for the switcher).
LANGUAGES: dict[str, str] = {"zh_Hant": "繁體中文", "en": "English"}
DEFAULT_LOCALE = "zh_Hant"
API_LANGUAGES = {"zh-Hant": "zh_Hant", "zh-TW": "zh_Hant", "zh": "zh_Hant", "en": "en"}
DEFAULT_TIMEZONE = "Asia/Taipei"
SESSION_KEY = "locale"


def select_locale() -> str:
    """The signed-in user's choice, else the session's, else Traditional Chinese."""
    if not has_request_context():
        return DEFAULT_LOCALE
    if request.path.startswith("/api/"):  # the API speaks the client's Accept-Language
        return API_LANGUAGES.get(request.accept_languages.best_match(API_LANGUAGES), DEFAULT_LOCALE)
    user_locale = getattr(current_user, "locale", None) if current_user else None
    for choice in (user_locale, session.get(SESSION_KEY)):
        if choice in LANGUAGES:
            return choice
    return DEFAULT_LOCALE


def select_timezone() -> str:
    """The timezone of the clan being viewed, else Asia/Taipei."""
    clan = g.get("clan") if has_request_context() else None
    return getattr(clan, "timezone", None) or DEFAULT_TIMEZONE


def remember_locale(locale: str) -> None:
    """Store the language choice in the session (the caller stores it on the user)."""
    if locale not in LANGUAGES:
        raise ValueError(f"unsupported language {locale!r}; choose one of {sorted(LANGUAGES)}")
    session[SESSION_KEY] = locale


def format_diamonds(amount: int | None) -> str:
    """An integer number of diamonds with the locale's grouping, e.g. ``12,345``.

    The same text as Babel's ``format_decimal(amount, format="#,##0")`` (groups of three,
    the locale's separator and minus sign), built with Python's own grouping.
    Diamonds are whole numbers: a float here is a bug upstream, so it is refused.
    """
    if amount is None:
        return "–"
    if isinstance(amount, float):
        raise TypeError("diamonds are integers; got a float")
    # Flask-Babel keeps the request's locale on ``g`` (``force_locale`` too); reading it
    # there skips get_locale()'s context lookup, a visible cost over hundreds of amounts.
    locale = g.get("babel_locale") if has_app_context() else None
    group, minus = _grouping_symbols(str(locale or current_locale_code()))
    amount = int(amount)
    digits = f"{-amount if amount < 0 else amount:,}"
    if group != ",":
        digits = digits.replace(",", group)
    return minus + digits if amount < 0 else digits


@lru_cache(maxsize=16)
def _grouping_symbols(locale: str) -> tuple[str, str]:
    """The locale's group separator and minus sign (looked up once per locale: Babel's
    ``format_decimal`` parses the pattern on every call, and a statement formats hundreds)."""
    return get_group_symbol(locale), get_minus_sign_symbol(locale)


def format_bps(bps: int | None) -> str:
    """Basis points as a locale percentage: ``500`` -> ``5%``, ``125`` -> ``1.25%``."""
    if bps is None:
        return "–"
    return format_percent(bps / BPS_PER_UNIT, format="#,##0.##%")


def format_day(value: date | datetime | None, fmt: str = "medium") -> str:
    """A calendar day in the locale; aware datetimes are first moved to the clan timezone."""
    return "" if value is None else format_date(value, fmt)


def format_month(value: date) -> str:
    """A month named in the locale: ``2026年12月`` / ``December 2026``."""
    return format_skeleton("yMMMM", value, locale=str(get_locale() or DEFAULT_LOCALE))


def service_message(error: Any) -> str:
    """A service's error (:class:`clanledger.services.errors.ServiceError`) in the user's
    language, its parameters formatted there too (a ``month`` date as the month's name, a
    number with the locale's separators)."""
    if not getattr(error, "params", None):
        return gettext(error.message)
    return gettext(
        error.message,
        **{
            # A number the message formats itself (``%(max)d``) stays a number.
            k: v if f"%({k})d" in error.message else _shown(k, v)
            for k, v in error.params.items()
        },
    )


def _shown(key: str, value: Any) -> Any:
    if isinstance(value, date):
        return format_month(value) if key == "month" else format_day(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return format_diamonds(value)
    return value


def format_moment(value: datetime | None, fmt: str = "short") -> str:
    return "" if value is None else format_datetime(value, fmt)


def format_clock(value: datetime | None, fmt: str = "HH:mm") -> str:
    return "" if value is None else format_time(value, fmt)


def format_ago(value: datetime | None) -> str:
    if value is None:
        return ""
    return format_timedelta(value - utcnow(), add_direction=True, granularity="minute")


# WTForms ships its built-in messages ("This field is required.") as zh_TW; a plain
# lookup of zh_Hant would fall back to its Simplified Chinese "zh" catalogue.
WTFORMS_LOCALES = {"zh_Hant": "zh_TW"}
_wtforms_catalogues: dict[str, support.Translations] = {}


def _use_traditional_wtforms_messages() -> None:
    """Give Flask-WTF the WTForms catalogue of the current language (it reads
    ``request.wtforms_translations`` before loading one itself)."""
    code = WTFORMS_LOCALES.get(current_locale_code(), current_locale_code())
    if code not in _wtforms_catalogues:
        _wtforms_catalogues[code] = support.Translations.load(
            messages_path(), [code], domain="wtforms"
        )
    request.wtforms_translations = _wtforms_catalogues[code]


def _use_reader_collation() -> None:
    """Names on this request's pages sort in the reader's language (stroke order in
    Traditional Chinese): :mod:`clanledger.domain.collation`."""
    collation.use_locale(current_locale_code())


def _forget_reader_collation(_error: BaseException | None = None) -> None:
    """The next request, or a command run in the same thread, starts from the default."""
    collation.use_locale(collation.DEFAULT_LOCALE)


def current_locale_code() -> str:
    return str(get_locale() or DEFAULT_LOCALE)


# Memos the app writes itself (stored in English), and how a reader sees them.
_MEMOS = (
    (
        re.compile(r"opening balances from (\d{4})-(\d{2})"),
        lambda m: gettext(
            "Opening balances from %(month)s", month=format_month(date(int(m[1]), int(m[2]), 1))
        ),
    ),
    (
        re.compile(r"reopen (\d{4})-(\d{2})"),
        lambda m: gettext("%(month)s reopened", month=format_month(date(int(m[1]), int(m[2]), 1))),
    ),
    (re.compile(r"transfer (\d+)"), lambda m: gettext("Transfer #%(seq)s", seq=m[1])),
    (
        re.compile(r"wallet netting (\d{4})-(\d{2})"),
        lambda m: gettext(
            "Wallet netting for %(month)s", month=format_month(date(int(m[1]), int(m[2]), 1))
        ),
    ),
)


def format_memo(memo: str | None) -> str:
    """A journal memo in the reader's language when the app wrote it; a person's as typed."""
    if not memo:
        return ""
    for pattern, words in _MEMOS:
        match = pattern.fullmatch(memo)
        if match:
            return words(match)
    return memo


def init_app(app: Flask) -> None:
    """Bind Babel with the locale and timezone selectors; register the filters and the
    template globals used by ``base.html``."""
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    login_manager.login_message = lazy_gettext("Please sign in to see this page.")
    filters: dict[str, Any] = {
        "diamonds": format_diamonds,
        "number": format_decimal,
        "percent_bps": format_bps,
        "date": format_day,
        "month": format_month,
        "datetime": format_moment,
        "time": format_clock,
        "timeago": format_ago,
        "parse_iso": datetime.fromisoformat,
        "memo": format_memo,
    }
    app.jinja_env.filters.update(filters)
    app.jinja_env.globals["role_label"] = role_label
    app.jinja_env.globals["account_label"] = shown_account_label
    app.before_request(_use_traditional_wtforms_messages)
    app.before_request(_use_reader_collation)
    app.teardown_request(_forget_reader_collation)

    @app.context_processor
    def _languages() -> dict[str, Any]:
        code = current_locale_code()
        return {
            "LANGUAGES": LANGUAGES,
            "current_locale": code,
            "html_lang": "zh-Hant-TW" if code == "zh_Hant" else code,
        }


ROLE_LABELS = {
    "leader": lazy_gettext("Leader"),
    "officer": lazy_gettext("Officer"),
    "member": lazy_gettext("Member"),
}


def shown_account_label(kind: Any, name: str | None = None) -> str:
    """An account on a page: :func:`domain.ledger.account_label`, translated."""
    return account_label(kind, name, gettext)


def shown_account_kind(kind: Any) -> str:
    """An account kind (``member``, ``fund``, ``fees``) in words; anything else as it is."""
    try:
        return gettext(ACCOUNT_KIND_LABELS[AccountKind(kind)])
    except ValueError:
        return str(kind)


def role_label(role: Any) -> str:
    """The translated name of a role (盟主 / 幹部 / 盟員)."""
    return str(ROLE_LABELS.get(str(getattr(role, "value", role)), role))
