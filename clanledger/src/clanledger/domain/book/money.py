"""Money in a currency's minor unit: exact integers, parsed from what people type.

An account stores amounts with ``minor_digits`` digits after the point: NT$ 120 is ``120``
with 0 digits (the default for TWD: nobody pays in cents) and ``12000`` with 2; US$ 1.50 is
``150``. Parsing never goes through ``float``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from clanledger.domain.book.errors import BookInputError
from clanledger.domain.messages import N_


@dataclass(frozen=True)
class Currency:
    code: str
    minor_digits: int  # the default for a new account
    symbol: str


CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("TWD", 0, "NT$"),
        Currency("USD", 2, "US$"),
        Currency("JPY", 0, "¥"),
        Currency("EUR", 2, "€"),
        Currency("HKD", 2, "HK$"),
        Currency("CNY", 2, "CN¥"),
        Currency("KRW", 0, "₩"),
        Currency("DIA", 0, "💎"),  # Lineage W diamonds
    )
}

MAX_MINOR_DIGITS = 4
MAX_AMOUNT = 10**15
"""The largest amount of one line, in minor units: far above any real purchase, and far
below what a 64-bit column holds even after a year of sums."""

_GROUPING = re.compile(r"[,_\s'，]")
_SYMBOLS = re.compile(r"^(NT\$|US\$|HK\$|CN¥|\$|¥|€|₩|TWD|USD|JPY|EUR|HKD|CNY|KRW|元)|(元|圓)$")


def currency(code: str) -> Currency:
    """The currency ``code`` (``"twd"`` is ``TWD``).

    Raises:
        BookInputError: not a currency the book knows.
    """
    found = CURRENCIES.get(str(code).strip().upper())
    if found is None:
        raise BookInputError(
            N_("Unknown currency %(code)s: use one of %(known)s."),
            {"code": code, "known": ", ".join(CURRENCIES)},
            field="currency",
        )
    return found


def parse_amount(text: str, minor_digits: int, *, allow_negative: bool = False) -> int:
    """``text`` as an exact amount in minor units: ``parse_amount("1,234.5", 2) == 123450``.

    Accepts grouping commas, full-width digits (１２０), a currency symbol (NT$ 120, 120元)
    and, with ``allow_negative``, a leading minus or accounting brackets ``(120)``.

    Raises:
        BookInputError: empty, not a number, more decimals than the account keeps, negative
            when not allowed, zero or above :data:`MAX_AMOUNT`.
    """
    raw = unicodedata.normalize("NFKC", str(text)).strip()
    negative = False
    if raw.startswith("(") and raw.endswith(")"):
        raw, negative = raw[1:-1].strip(), True
    if raw.startswith(("-", "−")):
        raw, negative = raw[1:].strip(), not negative
    grouped = _GROUPING.sub("", raw)
    raw = _SYMBOLS.sub("", grouped).strip()
    if raw != grouped and raw.startswith(("-", "−")):  # "NT$-120" (not "--120": a typo)
        raw, negative = raw[1:].strip(), not negative
    if not raw:
        raise BookInputError(N_("Enter an amount."), field="amount")
    if raw.startswith(("-", "−")):  # "--120", "(-120)": a typo, not a double negative
        raise BookInputError(
            N_("%(text)s is not an amount: enter a number such as 120 or 45.50."),
            {"text": str(text)[:40]},
            field="amount",
        )
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BookInputError(
            N_("%(text)s is not an amount: enter a number such as 120 or 45.50."),
            {"text": str(text)[:40]},
            field="amount",
        ) from None
    if not value.is_finite():
        raise BookInputError(
            N_("%(text)s is not an amount: enter a number such as 120 or 45.50."),
            {"text": str(text)[:40]},
            field="amount",
        )
    return _to_minor(value, minor_digits, negative, allow_negative, str(text)[:40])


def _to_minor(value: Decimal, digits: int, negative: bool, allow_negative: bool, text: str) -> int:
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        if digits == 0:
            raise BookInputError(
                N_("%(text)s has decimals, but this account keeps whole amounts."),
                {"text": text},
                field="amount",
            )
        raise BookInputError(
            N_("%(text)s has more than %(digits)d decimals."),
            {"text": text, "digits": digits},
            field="amount",
        )
    minor = int(scaled)
    if negative:
        minor = -minor
    if minor < 0 and not allow_negative:
        raise BookInputError(
            N_("Enter the amount without a minus sign; choose expense or income instead."),
            field="amount",
        )
    if minor == 0:
        raise BookInputError(N_("The amount cannot be 0."), field="amount")
    if abs(minor) > MAX_AMOUNT:
        raise BookInputError(
            N_("%(text)s is too large for one transaction."), {"text": text}, field="amount"
        )
    return minor


def format_amount(minor: int, minor_digits: int, *, grouping: bool = True) -> str:
    """``minor`` shown with its decimals: ``format_amount(123450, 2) == "1,234.50"``;
    ``format_amount(-120, 0) == "-120"``. Exact: no float on the way."""
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(int(minor)), 10**minor_digits) if minor_digits else (abs(minor), 0)
    text = f"{whole:,}" if grouping else str(whole)
    if minor_digits:
        text += "." + str(frac).rjust(minor_digits, "0")
    return sign + text


def rescale(minor: int, from_digits: int, to_digits: int) -> int:
    """An amount moved to another number of decimals, exactly (only to more digits, or when
    nothing is lost).

    Raises:
        BookInputError: the amount would lose its last digits.
    """
    if to_digits >= from_digits:
        return minor * 10 ** (to_digits - from_digits)
    factor = 10 ** (from_digits - to_digits)
    if minor % factor:
        raise BookInputError(
            N_("%(amount)s cannot be kept with %(digits)d decimals without rounding."),
            {"amount": format_amount(minor, from_digits), "digits": to_digits},
        )
    return minor // factor
