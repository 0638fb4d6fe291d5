"""What every import file shares: its limits, decoding, refused lines and dates.

Files come from Taiwanese banks, card issuers and the Ministry of Finance's e-invoice
platform: UTF-8 (often with a byte-order mark, as Excel saves "CSV UTF-8") or Big5, the
encoding Windows uses for Traditional Chinese (read as cp950, Microsoft's Big5, which also
holds the characters Big5 lacks such as 碁 and 銹).

Line numbers count every physical line of the file from 1, the header included, so a
refused line is the one the user sees in a text editor or a spreadsheet's row number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from clanledger.domain.book.errors import BookInputError
from clanledger.domain.messages import N_

MAX_IMPORT_BYTES = 1024 * 1024
MAX_IMPORT_LINES = 5000
FIRST_YEAR, LAST_YEAR = 1970, 2999
ROC_OFFSET = 1911  # 民國 1 is 1912

# The orders a date's parts are read in ("ymd" reads 4-digit years as AD, 2-3 digit ones
# as 民國 years; "roc" reads every short year as 民國).
DATE_ORDERS = ("ymd", "roc", "mdy", "dmy")


class ImportRefused(BookInputError):
    """The whole file is refused (too large, empty, not text, not the expected kind)."""


@dataclass(frozen=True)
class LineError:
    """Why line ``number`` is refused: ``message`` is an ``N_`` msgid with ``params``."""

    number: int
    message: str
    params: dict[str, Any] = field(default_factory=dict)


class LineRefused(BookInputError):
    """Raised while reading one line; the reader turns it into a :class:`LineError`."""


def decode(data: bytes) -> str:
    """An uploaded file as text: UTF-8 with or without a byte-order mark, else cp950 (Big5).

    Raises:
        ImportRefused: empty, over :data:`MAX_IMPORT_BYTES`, binary (NUL bytes or control
            characters: a spreadsheet or an image), or in neither encoding.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRefused(
            N_("The file is larger than %(limit)s KB: split it into several imports."),
            {"limit": str(MAX_IMPORT_BYTES // 1024)},
            field="upload",
        )
    if not data.strip():
        raise ImportRefused(N_("The file is empty."), field="upload")
    if b"\x00" in data or data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF")):
        raise ImportRefused(NOT_TEXT, field="upload")
    for encoding in ("utf-8-sig", "cp950"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _control_characters(text):
            break
        return text.replace("\r\n", "\n").replace("\r", "\n")
    raise ImportRefused(NOT_TEXT, field="upload")


NOT_TEXT = N_(
    "The file is not text in UTF-8 or Big5: save it from your spreadsheet as CSV and try again."
)


def _control_characters(text: str) -> bool:
    sample = text[:4096]
    bad = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\x1a")
    return bad > 0


def require_line_count(count: int) -> None:
    """Refuse a file of more than :data:`MAX_IMPORT_LINES` lines."""
    if count > MAX_IMPORT_LINES:
        raise ImportRefused(
            N_("The file has more than %(limit)s lines: split it into several imports."),
            {"limit": str(MAX_IMPORT_LINES)},
            field="upload",
        )


def clean_text(text: str) -> str:
    """A cell as shown: full-width letters and digits made plain, spaces collapsed, without
    the apostrophe a spreadsheet puts before a number or a formula."""
    text = " ".join(unicodedata.normalize("NFKC", str(text)).split())
    if text.startswith("'"):
        text = text[1:].strip()
    return text


def normalize_payee(text: str) -> str:
    """A payee for comparison: plain width, case and spacing ignored."""
    return " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


_DATE_WORDS = re.compile(r"[年月]")
_TIME = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2})?.*$")


def parse_date(text: str, order: str = "ymd") -> date:
    """A date as banks write it.

    ``order`` "ymd" (the default, what Taiwanese exports use) reads ``2026-12-05``,
    ``2026/12/05``, ``2026/1/5``, ``20261205`` and ``2026年12月5日`` as years of the common
    era, and reads a **2- or 3-digit year** as a 民國 (ROC) year: ``115/12/05`` and
    ``1151205`` are 2026-12-05 (民國 year + 1911). This is safe because no export writes a
    common-era year in 3 digits, and a 2-digit one is read as ROC only from 民國 60 (1971)
    on, so ``26/12/05`` (an abbreviated 2026) is refused as ambiguous instead of silently
    becoming 1937. "roc" reads every short year as 民國 (``15/1/5`` is 民國 15) and
    6-digit dates as ``yymmdd`` 民國; "mdy" and "dmy" read ``12/05/2026`` and
    ``05/12/2026`` (foreign cards). A ``民國`` prefix always means ROC; a time after the
    date (``2026/12/05 13:45``) is ignored.

    Raises:
        LineRefused: not a date in the chosen order, or outside 1970-2999.
    """
    raw = _TIME.sub("", unicodedata.normalize("NFKC", str(text)).strip()).strip()
    roc = order == "roc"
    if raw.startswith("民國"):
        raw, roc = raw[2:].strip(), True
    raw = _DATE_WORDS.sub("/", raw).rstrip("日").strip()
    parts = [p for p in re.split(r"[/\-.]", raw)] if re.search(r"[/\-.]", raw) else []
    if not parts and raw.isdigit():
        parts = _split_digits(raw, roc)
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise _bad_date(text)
    if order in ("mdy", "dmy") and not roc:
        month, day, year = parts if order == "mdy" else (parts[1], parts[0], parts[2])
    else:
        year, month, day = parts
    return _make_date(text, _year(text, year, roc), int(month), int(day))


def _split_digits(raw: str, roc: bool) -> list[str]:
    if len(raw) == 8:
        return [raw[:4], raw[4:6], raw[6:]]
    if len(raw) == 7:
        return [raw[:3], raw[3:5], raw[5:]]
    if len(raw) == 6 and roc:
        return [raw[:2], raw[2:4], raw[4:]]
    return []


def _year(text: str, year: str, roc: bool) -> int:
    value = int(year)
    if len(year) == 4:
        return value
    if len(year) == 3 or (len(year) <= 2 and (roc or value >= 60)):
        return value + ROC_OFFSET
    raise LineRefused(
        N_("%(text)s: write the year in full (2026) or as a 民國 year (115)."),
        {"text": str(text)[:20]},
        field="date",
    )


def _make_date(text: str, year: int, month: int, day: int) -> date:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise LineRefused(
            N_("%(text)s is outside the years 1970 to 2999."), {"text": str(text)[:20]}, "date"
        )
    try:
        return date(year, month, day)
    except ValueError:
        raise _bad_date(text) from None


def _bad_date(text: str) -> LineRefused:
    return LineRefused(
        N_("%(text)s is not a date such as 2026/12/05 or 115/12/05."),
        {"text": str(text)[:20] or "—"},
        field="date",
    )
