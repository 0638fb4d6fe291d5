"""What an import would do: every line of a staged file as a new transaction, a duplicate,
or a refused line (with its number and reason). Reads only; :mod:`imports` writes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clanledger.domain.book import csv_import, einvoice
from clanledger.domain.book.csv_import import Mapping, category_key
from clanledger.domain.book.entries import Split
from clanledger.domain.book.import_text import LineError, decode
from clanledger.domain.book.kinds import CategoryKind, TxnKind
from clanledger.domain.messages import N_
from clanledger.models.book import (
    BookAccount,
    BookCategory,
    BookImport,
    BookPosting,
    BookTransaction,
)
from clanledger.services.book.transactions import Draft


@dataclass(frozen=True)
class Settings:
    """The choices of the mapping step: the columns (CSV), the categories for lines without
    one, and for e-invoices whether to reuse each store's last category and shorten names."""

    mapping: Mapping | None = None
    category_id: int | None = None
    income_category_id: int | None = None
    learn: bool = True
    short_names: bool = True


@dataclass(frozen=True)
class PlannedLine:
    """One line of the preview: ``draft`` is what would be recorded; ``source_ref`` is
    ``None`` for a duplicate (or a skipped invoice, with ``skipped`` saying why)."""

    line: int
    draft: Draft
    source_ref: str | None
    category_name: str = ""
    items: int = 0
    skipped: str = ""


@dataclass
class Plan:
    lines: list[PlannedLine] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    header: list[str] = field(default_factory=list)

    @property
    def new(self) -> list[PlannedLine]:
        return [p for p in self.lines if p.source_ref is not None]

    @property
    def duplicates(self) -> int:
        return sum(1 for p in self.lines if p.source_ref is None and not p.skipped)

    @property
    def skipped(self) -> list[PlannedLine]:
        return [p for p in self.lines if p.skipped]


def plan(session: Session, row: BookImport, account: BookAccount, settings: Settings) -> Plan:
    """The plan of the staged file ``row`` into ``account`` under ``settings``."""
    text = decode(row.content or b"")
    cats = _categories(session, row.user_id)
    if row.source == "einvoice":
        return _plan_einvoice(session, row.user_id, account, text, settings, cats)
    return _plan_csv(session, row.user_id, account, text, settings, cats)


def _categories(session: Session, user_id: int) -> dict[int, BookCategory]:
    rows = session.scalars(select(BookCategory).where(BookCategory.user_id == user_id))
    return {c.id: c for c in rows}


def category_keys(cats: dict[int, BookCategory]) -> dict[str, int]:
    """Names a CSV's category column may use: a top-level name, or "parent/child"."""
    keys: dict[str, int] = {}
    for cat in sorted(cats.values(), key=lambda c: (c.archived, c.id)):
        name = f"{cat.parent.name}/{cat.name}" if cat.parent is not None else cat.name
        keys.setdefault(category_key(name), cat.id)
    return keys


def _label(cats: dict[int, BookCategory], category_id: int | None) -> str:
    cat = cats.get(category_id or 0)
    if cat is None:
        return ""
    return f"{cat.parent.name} › {cat.name}" if cat.parent is not None else cat.name


def _plan_csv(
    session: Session,
    user_id: int,
    account: BookAccount,
    text: str,
    settings: Settings,
    cats: dict[int, BookCategory],
) -> Plan:
    table = csv_import.read_table(text)
    mapping = settings.mapping or csv_import.guess_mapping(table.header)
    read = csv_import.read_rows(table, mapping, account.minor_digits, category_keys(cats))
    out = Plan(errors=list(read.errors), header=table.header)
    rows = []
    for row in read.rows:
        error = _category_error(row, settings, cats)
        if error is None:
            rows.append(row)
        else:
            out.errors.append(error)
    existing, taken = _existing(session, user_id, account.id, rows)
    for planned in csv_import.plan_duplicates(rows, account.id, existing, taken):
        r = planned.row
        cat_id = r.category_id or (
            settings.category_id if r.is_expense else settings.income_category_id
        )
        kind = TxnKind.EXPENSE if r.is_expense else TxnKind.INCOME
        draft = Draft(kind, r.occurred_on, account.id, r.amount, cat_id, payee=r.payee, note=r.note)
        out.lines.append(PlannedLine(r.line, draft, planned.source_ref, _label(cats, cat_id)))
    out.errors.sort(key=lambda e: e.number)
    return out


def _category_error(
    row: csv_import.ImportRow, settings: Settings, cats: dict[int, BookCategory]
) -> LineError | None:
    wanted = CategoryKind.EXPENSE if row.is_expense else CategoryKind.INCOME
    cat_id = row.category_id or (
        settings.category_id if row.is_expense else settings.income_category_id
    )
    if cat_id is None:
        message = (
            N_("Spending without a category: choose a category for spending.")
            if row.is_expense
            else N_("Income without a category: choose a category for income.")
        )
        return LineError(row.line, message)
    if cat_id not in cats or cats[cat_id].kind is not wanted:
        return LineError(
            row.line,
            N_("%(name)s is an income category, but this line is spending.")
            if row.is_expense
            else N_("%(name)s is a spending category, but this line is income."),
            {"name": _label(cats, cat_id)},
        )
    return None


def _existing(
    session: Session, user_id: int, account_id: int, rows: list[csv_import.ImportRow]
) -> tuple[Counter[str], set[str]]:
    """The account's transactions in the file's dates, counted by fingerprint, and the
    CSV source refs already used for the account."""
    taken = set(
        session.scalars(
            select(BookTransaction.source_ref).where(
                BookTransaction.user_id == user_id,
                BookTransaction.source_ref.like(f"csv:{account_id}:%"),
            )
        )
    )
    if not rows:
        return Counter(), taken
    first = min(r.occurred_on for r in rows)
    last = max(r.occurred_on for r in rows)
    found = session.execute(
        select(BookTransaction.occurred_on, BookTransaction.payee, func.sum(BookPosting.amount))
        .join(BookPosting, BookPosting.transaction_id == BookTransaction.id)
        .where(
            BookTransaction.user_id == user_id,
            BookTransaction.deleted_at.is_(None),
            BookTransaction.occurred_on.between(first, last),
            BookPosting.account_id == account_id,
        )
        .group_by(BookTransaction.id, BookTransaction.occurred_on, BookTransaction.payee)
    )
    counts: Counter[str] = Counter()
    for occurred_on, payee, amount in found:
        counts[csv_import.fingerprint(_as_date(occurred_on), int(amount or 0), payee or "")] += 1
    return counts, taken


def _as_date(value: date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _plan_einvoice(
    session: Session,
    user_id: int,
    account: BookAccount,
    text: str,
    settings: Settings,
    cats: dict[int, BookCategory],
) -> Plan:
    parsed = einvoice.read_einvoices(text, account.minor_digits)
    out = Plan(errors=list(parsed.errors))
    refs = [inv.source_ref for inv in parsed.invoices]
    taken = set(
        session.scalars(
            select(BookTransaction.source_ref).where(
                BookTransaction.user_id == user_id, BookTransaction.source_ref.in_(refs)
            )
        )
        if refs
        else []
    )
    payees = {inv.number: _payee(inv.store, settings) for inv in parsed.invoices}
    learned = _last_categories(session, user_id, set(payees.values())) if settings.learn else {}
    for inv in parsed.invoices:
        payee = payees[inv.number]
        cat_id = learned.get(payee) or settings.category_id
        if cat_id is None:
            out.errors.append(
                LineError(inv.line, N_("Choose a category for %(store)s."), {"store": payee})
            )
            continue
        splits = tuple(Split(cat_id, item.amount, item.name) for item in inv.items) or (
            Split(cat_id, inv.total),
        )
        draft = Draft(
            TxnKind.EXPENSE,
            inv.occurred_on,
            account.id,
            inv.total,
            splits=splits,
            payee=payee,
            note=inv.number,
        )
        ref = None if inv.source_ref in taken else inv.source_ref
        out.lines.append(
            PlannedLine(inv.line, draft, ref, _label(cats, cat_id), items=len(inv.items))
        )
    for skip in parsed.skipped:
        out.lines.append(_skipped_line(skip, account.id))
    out.lines.sort(key=lambda p: p.line)
    out.errors.sort(key=lambda e: e.number)
    return out


def _skipped_line(skip: einvoice.Skipped, account_id: int) -> PlannedLine:
    draft = Draft(TxnKind.EXPENSE, date(1970, 1, 1), account_id, 0, note=skip.number)
    return PlannedLine(skip.line, draft, None, skipped=skip.reason)


def _payee(store: str, settings: Settings) -> str:
    return einvoice.short_store_name(store) if settings.short_names else store


def _last_categories(session: Session, user_id: int, payees: set[str]) -> dict[str, int]:
    """The expense category each payee was last recorded under (its largest line)."""
    if not payees:
        return {}
    rows = session.execute(
        select(BookTransaction.payee, BookPosting.category_id)
        .join(BookPosting, BookPosting.transaction_id == BookTransaction.id)
        .join(BookCategory, BookCategory.id == BookPosting.category_id)
        .where(
            BookTransaction.user_id == user_id,
            BookTransaction.kind == TxnKind.EXPENSE,
            BookTransaction.deleted_at.is_(None),
            BookTransaction.payee.in_(sorted(payees)),
            BookCategory.archived.is_(False),
        )
        .order_by(
            BookTransaction.occurred_on.desc(),
            BookTransaction.id.desc(),
            BookPosting.amount.desc(),
        )
    )
    found: dict[str, int] = {}
    for payee, category_id in rows:
        found.setdefault(payee, category_id)
    return found
