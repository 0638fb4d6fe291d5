"""The Ministry of Finance e-invoice carrier export (財政部電子發票整合服務平台, 手機條碼載具
消費明細 CSV): one ``M`` line per invoice, then its ``D`` item lines.

::

    表頭=M|載具名稱|載具號碼|發票日期|商店統編|商店店名|發票號碼|總金額|發票狀態|
    明細=D|發票號碼|小計|品項名稱|
    M|手機條碼|/ABC1234|20261201|12345678|全家便利商店股份有限公司|AB12345678|120|開立|
    D|AB12345678|45|鮮乳|

Fields are pipe-separated with a trailing ``|``; a missing trailing pipe, a comma-separated
copy (as a spreadsheet re-saves it) and Big5 are read too. An invoice 作廢 (voided) is
skipped and reported, not refused; so is one whose total is 0. A line is refused, with its
line number, for: a ``D`` of an invoice no ``M`` line introduced, a bad date, number or
amount, an unknown status, and items that do not add up to the invoice's total.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date

from clanledger.domain.book.errors import BookInputError
from clanledger.domain.book.import_text import (
    ImportRefused,
    LineError,
    LineRefused,
    clean_text,
    parse_date,
    require_line_count,
)
from clanledger.domain.book.money import format_amount, parse_amount
from clanledger.domain.messages import N_

ISSUED = frozenset({"開立", "已開立", "issued", "開立已確認"})
VOIDED = frozenset({"作廢", "已作廢", "void", "voided"})
_NUMBER = re.compile(r"^[A-Z]{2}-?\d{8}$")
_SUFFIXES = ("股份有限公司", "有限公司")


@dataclass(frozen=True)
class Item:
    amount: int  # may be < 0: a discount line
    name: str


@dataclass
class Invoice:
    """One issued invoice: one expense, its items the split lines."""

    line: int
    number: str
    occurred_on: date
    store: str
    store_id: str
    total: int
    items: list[Item] = field(default_factory=list)

    @property
    def source_ref(self) -> str:
        return f"einvoice:{self.number}"


@dataclass(frozen=True)
class Skipped:
    """An invoice left out on purpose (voided, total 0, or repeated in the file)."""

    line: int
    number: str
    reason: str  # voided | zero | repeated


@dataclass
class EInvoiceFile:
    invoices: list[Invoice] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)


def short_store_name(name: str) -> str:
    """A store's name without its company form: 全家便利商店股份有限公司 is 全家便利商店."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)].strip()
    return name


def looks_like_einvoice(text: str) -> bool:
    """Whether ``text`` is a carrier export (an ``M`` line or its ``表頭=M`` header)."""
    for line in text.split("\n")[:30]:
        head = clean_text(line)
        if head.startswith(("表頭=M", "M|", "M,", '"M",', "明細=D")):
            return True
    return False


def read_einvoices(text: str, minor_digits: int = 0) -> EInvoiceFile:
    """Every invoice of the export, with the lines refused and the invoices skipped.

    Raises:
        ImportRefused: not a carrier export at all, or over the line limit.
    """
    if not looks_like_einvoice(text):
        raise ImportRefused(
            N_(
                "This is not an e-invoice carrier export (lines starting with M| and D|):"
                " choose the bank CSV import for other files."
            ),
            field="kind",
        )
    lines = text.split("\n")
    require_line_count(len(lines))
    out = EInvoiceFile()
    state = _State(out, minor_digits)
    for number, raw in enumerate(lines, start=1):
        try:
            state.read(number, raw)
        except BookInputError as exc:
            out.errors.append(LineError(number, exc.message, exc.params))
    state.check_totals()
    out.errors.sort(key=lambda e: e.number)
    return out


class _State:
    """The invoices read so far: a ``D`` line joins the invoice its number names."""

    def __init__(self, out: EInvoiceFile, digits: int) -> None:
        self.out = out
        self.digits = digits
        self.by_number: dict[str, Invoice | None] = {}  # None: skipped (voided, repeated)

    def read(self, number: int, raw: str) -> None:
        cells = _cells(raw)
        if not cells or cells[0].startswith(("表頭=", "明細=")):
            return
        kind = cells[0].upper()
        if kind == "M":
            self._master(number, cells)
        elif kind == "D":
            self._detail(cells)
        else:
            raise LineRefused(N_("A line starts with M (an invoice) or D (one of its items)."))

    def _master(self, number: int, cells: list[str]) -> None:
        if len(cells) < 9:
            raise LineRefused(
                N_("An invoice line has %(count)s fields, not 9."), {"count": str(len(cells))}
            )
        invoice_no = _invoice_number(cells[6])
        status = cells[8].casefold()
        if invoice_no in self.by_number:
            # The same invoice twice (two exports pasted together): its items are ignored.
            self.by_number[invoice_no] = None
            self.out.skipped.append(Skipped(number, invoice_no, "repeated"))
            return
        if status in VOIDED:
            self.by_number[invoice_no] = None
            self.out.skipped.append(Skipped(number, invoice_no, "voided"))
            return
        if status not in ISSUED:
            raise LineRefused(
                N_("Unknown invoice status %(status)s (expected 開立 or 作廢)."),
                {"status": cells[8][:20]},
            )
        occurred_on = parse_date(cells[3])
        total = _amount(cells[7], self.digits, negative=False)
        if total == 0:
            self.by_number[invoice_no] = None
            self.out.skipped.append(Skipped(number, invoice_no, "zero"))
            return
        store = cells[5][:128] or cells[4]
        invoice = Invoice(number, invoice_no, occurred_on, store, cells[4][:16], total)
        self.by_number[invoice_no] = invoice
        self.out.invoices.append(invoice)

    def _detail(self, cells: list[str]) -> None:
        if len(cells) < 4:
            raise LineRefused(
                N_("An item line has %(count)s fields, not 4."), {"count": str(len(cells))}
            )
        invoice_no = _invoice_number(cells[1])
        if invoice_no not in self.by_number:
            raise LineRefused(
                N_("Item of invoice %(number)s, but no invoice line (M) before it names it."),
                {"number": invoice_no},
            )
        amount = _amount(cells[2], self.digits, negative=True)
        invoice = self.by_number[invoice_no]
        if invoice is not None and amount != 0:
            invoice.items.append(Item(amount, cells[3][:200]))

    def check_totals(self) -> None:
        for invoice in self.out.invoices:
            if not invoice.items:
                continue
            parts = sum(item.amount for item in invoice.items)
            if parts != invoice.total:
                self.out.errors.append(
                    LineError(
                        invoice.line,
                        N_(
                            "The items of invoice %(number)s add up to %(parts)s, %(diff)s"
                            " off its total %(total)s."
                        ),
                        {
                            "number": invoice.number,
                            "parts": format_amount(parts, self.digits),
                            "diff": format_amount(abs(parts - invoice.total), self.digits),
                            "total": format_amount(invoice.total, self.digits),
                        },
                    )
                )


def _cells(raw: str) -> list[str]:
    """A line's fields: pipe-separated, else comma-separated (quotes allowed)."""
    line = raw.strip().lstrip("\ufeff")
    if not line:
        return []
    cells = line.split("|") if "|" in line else next(csv.reader([line]), [])
    cells = [clean_text(c) for c in cells]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _invoice_number(text: str) -> str:
    number = text.upper().replace(" ", "")
    if not _NUMBER.match(number):
        raise LineRefused(
            N_("%(text)s is not an invoice number (two letters and eight digits)."),
            {"text": text[:20] or "—"},
        )
    return number.replace("-", "")


def _amount(text: str, digits: int, negative: bool) -> int:
    """An amount, where 0 is allowed (a free item, a fully discounted invoice)."""
    if re.fullmatch(r"-?0+(\.0+)?", text.strip()):
        return 0
    value = parse_amount(text, digits, allow_negative=True)
    if value < 0 and not negative:
        raise LineRefused(N_("An invoice's total cannot be negative."), field="amount")
    return value
