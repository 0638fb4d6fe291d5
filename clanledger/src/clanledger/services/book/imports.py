"""Imports into the book: stage an upload, map its columns, preview, confirm, undo.

An upload is kept server-side as a ``pending`` :class:`BookImport` (its bytes in the row), so
the mapping step and the confirm work on any web worker. Confirming is all-or-nothing: if a
single line is refused, nothing is recorded and every refused line is named; otherwise every
new line is recorded and committed at once. Each new transaction carries a ``source_ref``
(unique per user), so importing the same file again records nothing, and a double submit
is refused by the database. The mapping is remembered per account for the next file.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from clanledger.domain.book import csv_import, einvoice
from clanledger.domain.book.csv_import import Mapping
from clanledger.domain.book.errors import BookInputError
from clanledger.domain.book.import_text import LineError, decode
from clanledger.domain.book.kinds import CategoryKind
from clanledger.domain.messages import N_
from clanledger.models.book import (
    BookAccount,
    BookCategory,
    BookImport,
    BookPosting,
    BookTransaction,
)
from clanledger.models.types import utcnow
from clanledger.services.book import audit, transactions
from clanledger.services.book.accounts import get_account
from clanledger.services.book.categories import by_code, get_category
from clanledger.services.book.errors import as_validation
from clanledger.services.book.import_plan import Plan, PlannedLine, Settings, plan
from clanledger.services.errors import (
    Conflict,
    NotFound,
    ValidationError,
    commit_or_conflict,
    flush_or_conflict,
)

SOURCES = ("csv", "einvoice")
MAX_PENDING = 5
ALREADY = N_("This import was already confirmed or discarded.")


class LinesRefused(ValidationError):
    """The file has refused lines: nothing was imported. ``lines`` names each one."""

    def __init__(self, lines: list[LineError]) -> None:
        super().__init__(
            N_("Nothing was imported: %(count)s lines are refused. Fix them and try again."),
            field="upload",
            params={"count": str(len(lines))},
        )
        self.lines = lines


def get_import(session: Session, user_id: int, import_id: int) -> BookImport:
    """One of the user's imports, else :class:`NotFound`."""
    row = session.get(BookImport, import_id)
    if row is None or row.user_id != user_id:
        raise NotFound()
    return row


def list_imports(session: Session, user_id: int, limit: int = 50) -> list[BookImport]:
    """The user's confirmed and undone imports, newest first."""
    query = (
        select(BookImport)
        .where(BookImport.user_id == user_id, BookImport.status != "pending")
        .order_by(BookImport.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def stage(
    session: Session,
    user_id: int,
    source: str,
    account_id: int,
    filename: str,
    data: bytes,
    category_id: int | None = None,
) -> BookImport:
    """Keep an upload as a pending import, after checking it is a file of ``source``'s kind
    (a bank CSV, or an e-invoice carrier export) within the limits."""
    if source not in SOURCES:
        raise ValidationError(N_("Choose what kind of file this is."), field="kind")
    account = _account(session, user_id, account_id)
    if category_id is not None:
        _category(session, user_id, category_id, CategoryKind.EXPENSE, "category")
    else:
        fallback = by_code(session, user_id, "other_expense")
        category_id = fallback.id if fallback is not None else None
    with as_validation():
        text = decode(data)
        if source == "einvoice":
            einvoice.read_einvoices(text, account.minor_digits)
        elif einvoice.looks_like_einvoice(text):
            raise ValidationError(
                N_("This is an e-invoice carrier export: choose the e-invoice import."),
                field="kind",
            )
        else:
            header = csv_import.read_table(text).header
    row = BookImport(
        user_id=user_id,
        source=source,
        filename=str(filename or "")[:255],
        status="pending",
        account_id=account.id,
        category_id=category_id,
        content=data,
    )
    if source == "csv":
        mapping = _remembered(session, user_id, account.id, header)
        income = by_code(session, user_id, "other_income")
        row.mapping = _stored(Settings(mapping, category_id, income.id if income else None), header)
    else:
        row.mapping = {"learn": True, "short_names": True}
    _drop_old_pending(session, user_id)
    session.add(row)
    commit_or_conflict(session, ALREADY)
    return row


def settings_of(session: Session, user_id: int, import_id: int) -> Settings:
    """The choices stored with an import (what the mapping form shows)."""
    row = get_import(session, user_id, import_id)
    stored = dict(row.mapping or {})
    mapping = None
    if row.source == "csv" and stored.get("columns") is not None:
        mapping = Mapping(**stored["columns"])
    return Settings(
        mapping=mapping,
        category_id=row.category_id,
        income_category_id=stored.get("income_category_id"),
        learn=bool(stored.get("learn", True)),
        short_names=bool(stored.get("short_names", True)),
    )


def header(session: Session, user_id: int, import_id: int) -> list[str]:
    """The column titles of a staged CSV (empty for an e-invoice export)."""
    row = _pending(session, user_id, import_id)
    if row.source != "csv":
        return []
    with as_validation():
        return csv_import.read_table(decode(row.content or b"")).header


def preview(
    session: Session, user_id: int, import_id: int, settings: Settings | None = None
) -> Plan:
    """What confirming would do; with ``settings``, they are checked and kept first."""
    row = _pending(session, user_id, import_id)
    if settings is not None:
        _save_settings(session, user_id, row, settings)
    account = _account(session, user_id, row.account_id or 0)
    with as_validation():
        return plan(session, row, account, settings_of(session, user_id, import_id))


def confirm(
    session: Session, user_id: int, import_id: int, settings: Settings | None = None
) -> BookImport:
    """Record every new line, or nothing.

    Raises:
        LinesRefused: some lines are refused (all named, nothing imported).
        Conflict: the import was confirmed already (a double submit) or lost a race.
    """
    result = preview(session, user_id, import_id, settings)
    if result.errors:
        raise LinesRefused(result.errors)
    row = _pending(session, user_id, import_id)
    _record_all(session, user_id, row.id, result.new)
    row.status = "done"
    row.content = None
    row.rows_read = len(result.lines)
    row.rows_imported = len(result.new)
    row.rows_duplicate = result.duplicates
    audit.record(session, user_id, "create", "import", row.id, _summary(row))
    commit_or_conflict(session, ALREADY)
    return row


def _record_all(session: Session, user_id: int, import_id: int, lines: list[PlannedLine]) -> None:
    """Add every new line as a transaction with its audit row, in two flushes (not two per
    line, as :func:`transactions.record` does: a 5,000-line file must fit in a request)."""
    added: list[BookTransaction] = []
    # Held here so the identity map keeps them: build_lines looks each one up per line.
    held = list(session.scalars(select(BookCategory).where(BookCategory.user_id == user_id)))
    held += list(session.scalars(select(BookAccount).where(BookAccount.user_id == user_id)))
    with session.no_autoflush:
        for line in lines:
            draft = line.draft
            try:
                built = transactions.build_lines(session, user_id, draft)
            except ValidationError as exc:
                session.rollback()
                raise LinesRefused([LineError(line.line, exc.message, exc.params)]) from exc
            txn = BookTransaction(
                user_id=user_id,
                kind=draft.kind,
                occurred_on=draft.occurred_on,
                payee=draft.payee[:128],
                note=draft.note[:2000],
                tags="",
                source_ref=line.source_ref,
                import_id=import_id,
            )
            txn.postings = [
                BookPosting(
                    user_id=user_id,
                    account_id=part.account_id,
                    category_id=part.category_id,
                    amount=part.amount,
                    currency=part.currency,
                    memo=part.memo[:200],
                )
                for part in built
            ]
            session.add(txn)
            added.append(txn)
    flush_or_conflict(session, ALREADY)
    del held
    for txn in added:
        summary = transactions.describe(txn)
        after = transactions.snapshot(txn)
        audit.record(session, user_id, "create", "transaction", txn.id, summary, after=after)


def discard(session: Session, user_id: int, import_id: int) -> None:
    """Forget a pending upload."""
    session.delete(_pending(session, user_id, import_id))
    commit_or_conflict(session, ALREADY)


def undo(session: Session, user_id: int, import_id: int) -> int:
    """Delete every transaction of a confirmed import (each one audited, so each can be
    brought back from the trail); returns how many were deleted. Their source refs are
    released, so the same file can be imported again."""
    row = get_import(session, user_id, import_id)
    if row.status != "done":
        raise Conflict(N_("Only a confirmed import can be undone."))
    txns = session.scalars(
        select(BookTransaction).where(
            BookTransaction.user_id == user_id,
            BookTransaction.import_id == row.id,
            BookTransaction.deleted_at.is_(None),
        )
    )
    count = 0
    for txn in txns:
        before = transactions.snapshot(txn)
        txn.deleted_at = utcnow()
        txn.source_ref = None
        summary = transactions.describe(txn)
        audit.record(session, user_id, "delete", "transaction", txn.id, summary, before)
        count += 1
    row.status = "undone"
    row.undone_at = utcnow()
    audit.record(session, user_id, "undo", "import", row.id, _summary(row))
    commit_or_conflict(session, N_("This import was changed at the same time. Reload the page."))
    return count


def _summary(row: BookImport) -> str:
    return f"{row.source} {row.filename} {row.rows_imported}".strip()


def _pending(session: Session, user_id: int, import_id: int) -> BookImport:
    row = get_import(session, user_id, import_id)
    if row.status != "pending" or row.content is None:
        raise Conflict(ALREADY)
    return row


def _account(session: Session, user_id: int, account_id: int) -> BookAccount:
    try:
        account = get_account(session, user_id, account_id)
    except NotFound:
        raise ValidationError(N_("Choose one of your accounts."), field="account") from None
    if account.read_only or account.archived:
        raise ValidationError(
            N_("Choose an account you can write to (not archived, not the clan mirror)."),
            field="account",
        )
    return account


def _category(
    session: Session, user_id: int, category_id: int, kind: CategoryKind, field: str
) -> None:
    try:
        category = get_category(session, user_id, category_id)
    except NotFound:
        raise ValidationError(N_("Choose one of your categories."), field=field) from None
    if category.kind is not kind:
        message = (
            N_("Choose a spending category.")
            if kind is CategoryKind.EXPENSE
            else N_("Choose an income category.")
        )
        raise ValidationError(message, field=field)


def _save_settings(session: Session, user_id: int, row: BookImport, settings: Settings) -> None:
    if settings.category_id is not None:
        _category(session, user_id, settings.category_id, CategoryKind.EXPENSE, "category")
    if settings.income_category_id is not None:
        _category(
            session, user_id, settings.income_category_id, CategoryKind.INCOME, "income_category"
        )
    header: list[str] = []
    if row.source == "csv":
        with as_validation():
            header = csv_import.read_table(decode(row.content or b"")).header
            if settings.mapping is not None:
                csv_import.check_mapping(settings.mapping, len(header))
    row.category_id = settings.category_id
    row.mapping = _stored(settings, header)
    commit_or_conflict(session, ALREADY)


def _stored(settings: Settings, header: list[str]) -> dict:
    """Settings as JSON: the columns by index and by their header's name (the name is what
    the next file of the same account is matched by)."""
    out: dict = {
        "income_category_id": settings.income_category_id,
        "learn": settings.learn,
        "short_names": settings.short_names,
    }
    if settings.mapping is not None:
        columns = settings.mapping.as_dict()
        out["columns"] = columns
        out["names"] = {
            k: header[v]
            for k, v in columns.items()
            if k in csv_import.FIELDS and isinstance(v, int) and v < len(header)
        }
    return out


def _remembered(session: Session, user_id: int, account_id: int, header: list[str]) -> Mapping:
    """The mapping last confirmed for the account, matched to ``header`` by column names
    (a field whose column is gone is guessed again)."""
    guess = csv_import.guess_mapping(header)
    last = session.scalar(
        select(BookImport)
        .where(
            BookImport.user_id == user_id,
            BookImport.account_id == account_id,
            BookImport.source == "csv",
            BookImport.status != "pending",
        )
        .order_by(BookImport.id.desc())
        .limit(1)
    )
    if last is None or not (last.mapping or {}).get("names"):
        return guess
    names, columns = last.mapping["names"], last.mapping.get("columns", {})
    found = {k: header.index(n) for k, n in names.items() if n in header}
    try:
        remembered = Mapping(
            **found,
            negative_is_spending=bool(columns.get("negative_is_spending", True)),
            date_order=str(columns.get("date_order", "ymd")),
        )
        csv_import.check_mapping(remembered, len(header))
    except (BookInputError, TypeError):
        return guess
    return remembered


def _drop_old_pending(session: Session, user_id: int) -> None:
    """Keep at most :data:`MAX_PENDING` - 1 older uploads waiting (the new one is the
    last)."""
    old = list(
        session.scalars(
            select(BookImport)
            .where(BookImport.user_id == user_id, BookImport.status == "pending")
            .order_by(BookImport.id.desc())
            .offset(MAX_PENDING - 1)
        )
    )
    for row in old:
        session.delete(row)
