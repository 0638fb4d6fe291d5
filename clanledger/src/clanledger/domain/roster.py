"""A roster typed, pasted or uploaded by an officer: one character a line.

A line is ``name``, ``name,class`` or ``name,class,player`` (comma- or tab-separated, CSV
quoting allowed, so a spreadsheet's copy or its CSV export both work), or just a name. An
optional first line of column titles (``Character,Class,Player`` or ``角色,職業,玩家``) is
skipped, as are blank lines and lines starting with ``#``; line numbers always count every
line of the text, so an error points at the line the officer sees in the editor.

Names follow :mod:`clanledger.domain.names`; two lines whose names collide (``Ｂｏｂ`` and
``bob``) are refused at the second one, naming the first.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from clanledger.domain.errors import DomainError
from clanledger.domain.messages import N_
from clanledger.domain.names import InvalidName, clean_name, name_key

MAX_ROSTER_BYTES = 64 * 1024
MAX_ROSTER_LINES = 500
MAX_CLASS_LENGTH = 32
MAX_PLAYER_LENGTH = 64
COLUMNS = ("Character", "Class", "Player")
# Column titles a first line may hold (what the export writes, in English and zh_Hant).
HEADER_WORDS = frozenset(
    {"character", "character name", "name", "角色", "角色名稱", "名稱", "名字"}
)
FORMULA_STARTS = ("=", "+", "-", "@")


class RosterRefused(DomainError):
    """The whole roster is refused: over :data:`MAX_ROSTER_BYTES` bytes or
    :data:`MAX_ROSTER_LINES` lines, or not text."""

    def __init__(self, message: str, params: dict[str, Any]) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


@dataclass(frozen=True)
class RosterLine:
    """One character to add: its line number in the text, and what the line gave."""

    number: int
    name: str
    char_class: str = ""
    player: str = ""


@dataclass(frozen=True)
class LineError:
    """Why line ``number`` is refused: ``message`` is an ``N_`` msgid with ``params``."""

    number: int
    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ParsedRoster:
    lines: list[RosterLine] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)


def require_size(data: bytes | str) -> None:
    """Refuse a roster over the byte limit before reading it."""
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if size > MAX_ROSTER_BYTES:
        raise RosterRefused(
            N_("The roster is larger than %(limit)s KB; split it into several imports."),
            {"limit": MAX_ROSTER_BYTES // 1024},
        )


def decode_roster(data: bytes) -> str:
    """An uploaded file as text: UTF-8 (with or without a byte-order mark), else Big5, the
    encoding of Traditional Chinese spreadsheets saved as CSV on Windows."""
    require_size(data)
    for encoding in ("utf-8-sig", "big5"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterRefused(N_("The file is not text in UTF-8 or Big5; save it as CSV (UTF-8)."), {})


def _cell(text: str) -> str:
    """A cell as typed: trimmed, without the apostrophe an export puts before a formula."""
    text = text.strip()
    if text.startswith("'") and text[1:2] in FORMULA_STARTS:
        return text[1:]
    return text


def _records(text: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of each CSV record; tab-separated when the text has tabs."""
    delimiter = "\t" if "\t" in text else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    records, start = [], 1
    for cells in reader:
        records.append((start, cells))
        start = reader.line_num + 1
    return records


def _line(number: int, cells: list[str]) -> RosterLine | LineError:
    if len(cells) > len(COLUMNS):
        return LineError(
            number,
            N_("Line %(line)s: %(count)s columns; a line is name, class, player."),
            {"line": number, "count": len(cells)},
        )
    name, char_class, player = ([*cells, "", ""])[:3]
    try:
        name = clean_name(_cell(name))
    except InvalidName:
        return LineError(
            number,
            N_(
                "Line %(line)s: names are 1 to 64 characters, without invisible characters"
                " such as zero-width spaces."
            ),
            {"line": number},
        )
    char_class, player = _cell(char_class), _cell(player)
    if len(char_class) > MAX_CLASS_LENGTH or len(player) > MAX_PLAYER_LENGTH:
        return LineError(
            number,
            N_("Line %(line)s: a class is at most 32 characters and a player 64."),
            {"line": number},
        )
    return RosterLine(number, name, char_class, player)


def parse_roster(text: str) -> ParsedRoster:
    """The lines of ``text`` and the errors of the refused ones, in line order.

    Raises:
        RosterRefused: over the byte or line limit.
    """
    require_size(text)
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise RosterRefused(N_("The roster holds a NUL character; is it a text file?"), {})
    if len(text.splitlines()) > MAX_ROSTER_LINES:
        raise RosterRefused(
            N_("The roster has more than %(limit)s lines; split it into several imports."),
            {"limit": MAX_ROSTER_LINES},
        )
    parsed, first_line = ParsedRoster(), {}
    for index, (number, cells) in enumerate(_records(text)):
        if not any(cell.strip() for cell in cells) or cells[0].lstrip().startswith("#"):
            continue
        if index == 0 and cells[0].strip().casefold() in HEADER_WORDS:
            continue
        line = _line(number, cells)
        if isinstance(line, LineError):
            parsed.errors.append(line)
            continue
        key = name_key(line.name)
        if key in first_line:
            parsed.errors.append(
                LineError(
                    number,
                    N_("Line %(line)s: %(name)s is the same name as line %(first)s."),
                    {"line": number, "name": line.name, "first": first_line[key]},
                )
            )
            continue
        first_line[key] = number
        parsed.lines.append(line)
    return parsed
