"""A bank or card CSV: its table, the user's column mapping, and each line as a transaction.

The file's first non-blank record is its header. A :class:`Mapping` says which column holds
the date, the amount (one signed column, or a withdrawal and a deposit column as Taiwanese
banks write 支出/存入), the payee, a note and optionally a category. :func:`read_rows`
turns every line into an :class:`ImportRow` or a :class:`LineError`; the service imports
nothing unless there is no error at all.

Duplicates are found by a fingerprint of (date, signed amount, payee) — see
:func:`fingerprint` and :func:`plan_duplicates`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping as MappingType
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from clanledger.domain.book.errors import BookInputError
from clanledger.domain.book.import_text import (
    DATE_ORDERS,
    ImportRefused,
    LineError,
    LineRefused,
    clean_text,
    normalize_payee,
    parse_date,
    require_line_count,
)
from clanledger.domain.book.money import parse_amount
from clanledger.domain.messages import N_

DELIMITERS = (",", ";", "\t")
MAX_COLUMNS = 60
FIELDS = ("date", "amount", "withdrawal", "deposit", "payee", "note", "category")
# Header words that suggest a column's role (compared case-insensitively, spaces removed).
_GUESS: dict[str, tuple[str, ...]] = {
    "date": ("交易日期", "日期", "交易日", "記帳日", "入帳日", "消費日", "date", "transactiondate"),
    "withdrawal": ("支出", "提款", "支出金額", "提出", "withdrawal", "debit", "支出(元)"),
    "deposit": ("存入", "存款", "存入金額", "收入", "deposit", "credit", "存入(元)"),
    "amount": ("金額", "交易金額", "新臺幣金額", "新台幣金額", "amount", "台幣金額"),
    "payee": ("摘要", "說明", "交易說明", "商店", "消費明細", "特店名稱", "payee", "description"),
    "note": ("備註", "附註", "memo", "note", "notes"),
    "category": ("分類", "類別", "category"),
}


@dataclass(frozen=True)
class Table:
    """A CSV's header and its data records, each with the line number it starts on."""

    header: list[str]
    rows: list[tuple[int, list[str]]]
    delimiter: str


@dataclass(frozen=True)
class Mapping:
    """Which column (0-based index, ``None`` for none) holds each field.

    ``amount`` is one signed column; with ``negative_is_spending`` a negative amount is
    spending (a bank account's view), else a positive one is (a card statement's charges).
    ``withdrawal`` and ``deposit`` are two unsigned columns instead.
    """

    date: int | None = None
    amount: int | None = None
    withdrawal: int | None = None
    deposit: int | None = None
    payee: int | None = None
    note: int | None = None
    category: int | None = None
    negative_is_spending: bool = True
    date_order: str = "ymd"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class ImportRow:
    """One line to record: ``amount`` > 0, spent when ``is_expense`` else received."""

    line: int
    occurred_on: date
    amount: int
    is_expense: bool
    payee: str = ""
    note: str = ""
    category_id: int | None = None  # None: the default category of the form

    @property
    def signed(self) -> int:
        """The amount as it moves the account (< 0 spent)."""
        return -self.amount if self.is_expense else self.amount


@dataclass
class ReadResult:
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)


def read_table(text: str) -> Table:
    """The CSV in ``text``: delimiter sniffed (comma, semicolon or tab), blank lines skipped.

    Raises:
        ImportRefused: no header with at least two columns, no data lines, or too many.
    """
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                records.append((start, cells[:MAX_COLUMNS]))
                require_line_count(len(records))
            start = reader.line_num + 1
    except csv.Error:
        raise ImportRefused(
            N_("Line %(line)s is not valid CSV (a quote is not closed)."),
            {"line": str(start)},
            field="upload",
        ) from None
    if not records or len(records[0][1]) < 2:
        raise ImportRefused(
            N_("The file has no header line with at least two columns: is it a CSV file?"),
            field="upload",
        )
    if len(records) < 2:
        raise ImportRefused(N_("The file has a header but no lines to import."), field="upload")
    header = [clean_text(c) for c in records[0][1]]
    return Table(header, records[1:], delimiter)


def sniff_delimiter(text: str) -> str:
    """The delimiter of the first lines: the one that splits them most consistently."""
    sample = "\n".join(line for line in text.split("\n")[:20] if line.strip())
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        return max(DELIMITERS, key=first.count)


def guess_mapping(header: list[str]) -> Mapping:
    """A first mapping from the header's words (交易日期, 支出, 存入, 摘要...)."""
    found: dict[str, int] = {}
    keys = [re.sub(r"\s+", "", h).casefold() for h in header]
    for name, words in _GUESS.items():
        for word in words:
            if word in keys and keys.index(word) not in found.values():
                found[name] = keys.index(word)
                break
    if "withdrawal" in found and "deposit" in found:
        found.pop("amount", None)
    else:
        found.pop("withdrawal", None)
        found.pop("deposit", None)
    return Mapping(**found)  # type: ignore[arg-type]


def check_mapping(mapping: Mapping, columns: int) -> None:
    """Refuse a mapping that cannot read a line.

    Raises:
        BookInputError: no date, no amount (or only one of withdrawal/deposit), a column
            used twice, a column past the header, or an unknown date order.
    """
    used = [v for k, v in mapping.as_dict().items() if k in FIELDS and v is not None]
    if any(not isinstance(v, int) or not 0 <= v < columns for v in used):
        raise BookInputError(N_("Choose columns of the file."), field="mapping")
    if len(set(used)) != len(used):
        raise BookInputError(N_("Each column can hold only one field."), field="mapping")
    if mapping.date is None:
        raise BookInputError(N_("Choose the column with the date."), field="date")
    two = mapping.withdrawal is not None and mapping.deposit is not None
    if (mapping.amount is None) == (not two):
        raise BookInputError(
            N_("Choose one amount column, or both the withdrawal and the deposit columns."),
            field="amount",
        )
    if mapping.date_order not in DATE_ORDERS:
        raise BookInputError(N_("Choose how dates are written."), field="date_order")


def read_rows(
    table: Table,
    mapping: Mapping,
    minor_digits: int,
    categories: MappingType[str, int] | None = None,
) -> ReadResult:
    """Every data line as an :class:`ImportRow`, or the reason it is refused.

    ``categories`` maps :func:`category_key` of a name to a category id (the service lists
    top-level names and "parent/child"); a category cell naming none is refused.
    """
    check_mapping(mapping, len(table.header))
    result = ReadResult()
    for number, cells in table.rows:
        try:
            result.rows.append(_row(number, cells, mapping, minor_digits, categories or {}))
        except BookInputError as exc:
            result.errors.append(LineError(number, exc.message, exc.params))
    return result


def _cell(cells: list[str], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    return clean_text(cells[index])


def _row(
    number: int,
    cells: list[str],
    mapping: Mapping,
    digits: int,
    categories: MappingType[str, int],
) -> ImportRow:
    raw_date = _cell(cells, mapping.date)
    if not raw_date:
        raise LineRefused(N_("The date is empty."), field="date")
    occurred_on = parse_date(raw_date, mapping.date_order)
    signed = _signed_amount(cells, mapping, digits)
    category_id = None
    name = _cell(cells, mapping.category)
    if name:
        category_id = categories.get(category_key(name))
        if category_id is None:
            raise LineRefused(
                N_("There is no category named %(name)s."), {"name": name[:40]}, "category"
            )
    return ImportRow(
        line=number,
        occurred_on=occurred_on,
        amount=abs(signed),
        is_expense=signed < 0,
        payee=_cell(cells, mapping.payee)[:128],
        note=_cell(cells, mapping.note)[:2000],
        category_id=category_id,
    )


def _signed_amount(cells: list[str], mapping: Mapping, digits: int) -> int:
    """The amount as it moves the account: < 0 spent, > 0 received."""
    if mapping.amount is not None:
        text = _cell(cells, mapping.amount)
        if _is_zero(text):
            raise LineRefused(N_("The amount is empty or 0."), field="amount")
        value = parse_amount(text, digits, allow_negative=True)
        return value if mapping.negative_is_spending else -value
    out, into = _cell(cells, mapping.withdrawal), _cell(cells, mapping.deposit)
    if _is_zero(out) and _is_zero(into):
        raise LineRefused(N_("Both the withdrawal and the deposit are empty."), field="amount")
    if not _is_zero(out) and not _is_zero(into):
        raise LineRefused(N_("A line has a withdrawal and a deposit: keep one."), field="amount")
    if not _is_zero(out):
        return -abs(parse_amount(out, digits, allow_negative=True))
    return abs(parse_amount(into, digits, allow_negative=True))


def _is_zero(text: str) -> bool:
    """Empty, a dash, or a zero (banks fill the unused column with 0 or 0.00)."""
    raw = re.sub(r"[,\s$元]|NT\$", "", unicodedata.normalize("NFKC", text)).strip("-")
    if not raw:
        return True
    try:
        return Decimal(raw) == 0
    except InvalidOperation:
        return False


def category_key(name: str) -> str:
    """A category name for matching: "餐飲 › 午餐", "餐飲/午餐" and "餐飲 > 午餐" are one key."""
    parts = re.split(r"\s*[/›>＞]\s*", unicodedata.normalize("NFKC", name).casefold())
    return "/".join(" ".join(p.split()) for p in parts if p.strip())


def fingerprint(occurred_on: date, signed: int, payee: str) -> str:
    """A short, stable hash of what makes two lines "the same purchase"."""
    key = f"{occurred_on.isoformat()}|{signed}|{normalize_payee(payee)}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Planned:
    """A line after duplicate detection: ``source_ref`` is ``None`` for a duplicate."""

    row: ImportRow
    source_ref: str | None


def plan_duplicates(
    rows: list[ImportRow], account_id: int, existing: Counter[str], taken: set[str]
) -> list[Planned]:
    """Decide which lines are new.

    ``existing`` counts the account's (non-deleted) transactions by :func:`fingerprint`.
    Two identical purchases on one day are both real, so occurrences are counted: the n-th
    identical line of the file is a duplicate when the account already has at least n such
    transactions. A new line gets ``csv:<account>:<fingerprint>#<n>``, the lowest n not in
    ``taken`` (the user's source refs already used), so importing the same file again finds
    every line a duplicate, and the database's unique key guards against a double submit.
    """
    seen: Counter[str] = Counter()
    used = set(taken)
    out: list[Planned] = []
    for row in rows:
        fp = fingerprint(row.occurred_on, row.signed, row.payee)
        seen[fp] += 1
        if seen[fp] <= existing.get(fp, 0):
            out.append(Planned(row, None))
            continue
        n = seen[fp]
        while f"csv:{account_id}:{fp}#{n}" in used:
            n += 1
        ref = f"csv:{account_id}:{fp}#{n}"
        used.add(ref)
        out.append(Planned(row, ref))
    return out
