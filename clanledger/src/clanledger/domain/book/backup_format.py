"""The JSON backup of a personal book: its format, and the check a file passes before any
of it is restored.

A backup names its rows by the ids they had; a restore gives them new ones, so every
reference (a posting's account, a subcategory's parent, a budget's category...) must point
at a row of the same file. :func:`parse_backup` checks the whole file first (types, ranges,
references, every transaction balanced per currency, amounts whole numbers) and refuses it
with one line naming the first problem, so nothing is ever half-restored.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from clanledger.domain.book.errors import BookInputError
from clanledger.domain.book.money import CURRENCIES, MAX_AMOUNT
from clanledger.domain.messages import N_

FORMAT = "clanledger-book"
VERSION = 1
MAX_BYTES = 20 * 1024 * 1024
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)
MAX_POSTING = MAX_AMOUNT * 1000  # a currency conversion line may exceed one purchase

NOT_JSON = N_("The file is not a book backup: it is not valid JSON (line %(line)s).")
NOT_BACKUP = N_("The file is not a book backup of Clan Ledger.")
BAD_VERSION = N_(
    "The backup's format version %(version)s cannot be read: this app reads version %(expected)s."
)
BAD_FIELD = N_("%(where)s: %(field)s is missing or not a valid value.")
NOT_WHOLE = N_("%(where)s: %(field)s must be a whole number of minor units, not %(value)s.")
BAD_REF = N_("%(where)s: %(field)s %(ref)s is not in the backup.")
TWICE = N_("%(where)s: %(field)s %(value)s appears twice.")
UNBALANCED = N_("%(where)s does not balance: its %(currency)s lines add up to %(off)s, not 0.")
WRONG_CURRENCY = N_("%(where)s: the line is in %(currency)s but its account keeps %(expected)s.")
TOO_LARGE = N_("The backup is larger than %(max)s MB.")


def fail(message: str, **params: Any) -> BookInputError:
    return BookInputError(message, params)


def load(raw: bytes | str) -> dict[str, Any]:
    """The JSON object of ``raw`` (bytes are UTF-8, a BOM allowed)."""
    if len(raw) > MAX_BYTES:
        raise fail(TOO_LARGE, max=MAX_BYTES // (1024 * 1024))
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        data = json.loads(text, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise fail(NOT_JSON, line=1) from None
    except json.JSONDecodeError as exc:
        raise fail(NOT_JSON, line=exc.lineno) from None
    except (ValueError, RecursionError):
        raise fail(NOT_JSON, line=1) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise fail(NOT_BACKUP)
    version = data.get("version")
    if type(version) is not int or version != VERSION:
        raise fail(BAD_VERSION, version=str(version)[:20], expected=VERSION)
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(name)


class Field:
    """Reads the fields of one row, naming the row (``where``) in every refusal."""

    def __init__(self, row: Any, where: str) -> None:
        if not isinstance(row, dict):
            raise fail(BAD_FIELD, where=where, field="{}")
        self.row, self.where = row, where

    def bad(self, name: str) -> BookInputError:
        return fail(BAD_FIELD, where=self.where, field=name)

    def int(self, name: str, low: int, high: int, optional: bool = False) -> int | None:
        value = self.row.get(name)
        if value is None and optional:
            return None
        if type(value) is not int or not low <= value <= high:
            raise self.bad(name)
        return value

    def amount(self, name: str, low: int, high: int) -> int:
        value = self.row.get(name)
        if type(value) is not int:
            raise fail(NOT_WHOLE, where=self.where, field=name, value=str(value)[:30])
        if not low <= value <= high:
            raise self.bad(name)
        return value

    def str(self, name: str, limit: int, optional: bool = True, empty: bool = True) -> Any:
        value = self.row.get(name)
        if value is None and optional:
            return None if not empty else ""
        if not isinstance(value, str) or len(value) > limit or not storable(value):
            raise self.bad(name)
        if not empty and not value.strip():
            raise self.bad(name)
        return value

    def opt_str(self, name: str, limit: int) -> str | None:
        value = self.row.get(name)
        return None if value is None else self.str(name, limit)

    def bool(self, name: str) -> bool:
        value = self.row.get(name, False)
        if type(value) is not bool:
            raise self.bad(name)
        return value

    def choice(self, name: str, enum: type) -> Any:
        try:
            return enum(self.row.get(name))
        except ValueError:
            raise self.bad(name) from None

    def currency(self, name: str = "currency") -> str:
        value = self.row.get(name)
        if not isinstance(value, str) or value not in CURRENCIES:
            raise self.bad(name)
        return value

    def date(self, name: str, optional: bool = False) -> date | None:
        value = self.row.get(name)
        if value is None and optional:
            return None
        try:
            day = date.fromisoformat(value)
        except (TypeError, ValueError):
            raise self.bad(name) from None
        if not FIRST_DAY <= day <= LAST_DAY:
            raise self.bad(name)
        return day

    def moment(self, name: str) -> datetime | None:
        value = self.row.get(name)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise self.bad(name) from None
        if moment.tzinfo is None or not FIRST_DAY.year <= moment.year <= LAST_DAY.year:
            raise self.bad(name)
        return moment.astimezone(UTC)

    def ref(self, name: str, known: dict[int, Any], optional: bool = True) -> int | None:
        value = self.row.get(name)
        if value is None and optional:
            return None
        if type(value) is not int:
            raise self.bad(name)
        if value not in known:
            raise fail(BAD_REF, where=self.where, field=name, ref=value)
        return value


def storable(text: str) -> bool:
    """Text every database stores: valid UTF-8 (no lone surrogate) and no NUL."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def rows(data: dict[str, Any], key: str) -> list[tuple[Field, int]]:
    """The rows of section ``key`` (a list, possibly empty), each with its unique id."""
    section = data.get(key, [])
    if not isinstance(section, list):
        raise fail(BAD_FIELD, where=key, field="[]")
    out, seen = [], set()
    for i, row in enumerate(section):
        reader = Field(row, f"{key} #{i + 1}")
        row_id = reader.int("id", 1, 2**63 - 1)
        if row_id in seen:
            raise fail(TWICE, where=reader.where, field="id", value=row_id)
        seen.add(row_id)
        out.append((reader, row_id))
    return out


def balanced(where: str, lines: list[dict[str, Any]]) -> None:
    """Refuse a transaction whose lines do not add up to 0 in each currency."""
    sums: dict[str, int] = defaultdict(int)
    for line in lines:
        sums[line["currency"]] += line["amount"]
    for code, off in sorted(sums.items()):
        if off:
            raise fail(UNBALANCED, where=where, currency=code, off=off)


def unique(where: str, field: str, value: Any, seen: set[Any]) -> None:
    if value in seen:
        raise fail(TWICE, where=where, field=field, value=str(value)[:64])
    seen.add(value)
