"""Exports: the ledger, the statements and the transfer plan as tables, written as CSV or
XLSX (openpyxl); and the printable statement whose totals add up.

A :class:`Table` holds plain values: integers stay integers (diamonds), dates stay dates, so
a spreadsheet can sum the columns. Column titles are English msgids; the view translates
them.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session

from clanledger.domain.collation import sort_key
from clanledger.domain.ledger import AccountKind, account_label
from clanledger.domain.messages import N_
from clanledger.models import Character, Clan, EntryKind, JournalEntry, Period, Posting, Role
from clanledger.services import authz, close, close_preview, statements, trends
from clanledger.services.periods import load_period

DIAMONDS_FORMAT = "#,##0"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SHEET_TITLE_UNSAFE = re.compile(r"[\[\]:*?/\\\x00-\x1f]")  # refused by Excel in a sheet name


@dataclass(frozen=True)
class Table:
    """A titled table: ``header`` names the columns, ``money`` the diamond columns."""

    title: str
    header: list[str]
    rows: list[list[Any]]
    money: frozenset[int] = field(default_factory=frozenset)


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    """A stored (UTC) time as the clan's wall-clock time, without a zone: spreadsheets
    cannot hold one."""
    return moment.astimezone(tz).replace(tzinfo=None)


def ledger_table(session: Session, actor_id: int, clan_id: int, period_id: int | None) -> Table:
    """Every posting of the period (or of all periods), entry by entry (officers)."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    names = close_preview.character_names(session, clan_id)
    tz = ZoneInfo(session.get(Clan, clan_id).timezone)
    query = (
        select(Posting, JournalEntry, Period.starts_on)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .join(Period, Period.id == Posting.period_id)
        .where(Posting.clan_id == clan_id)
        .order_by(Period.starts_on, JournalEntry.occurred_at, JournalEntry.id, Posting.id)
    )
    if period_id is not None:
        load_period(session, clan_id, period_id)
        query = query.where(Posting.period_id == period_id)
    rows = [
        [
            start.strftime("%Y-%m"),
            entry.id,
            _local(entry.occurred_at, tz),
            entry.kind.value,
            entry.memo,
            entry.reason,
            posting.account_kind,
            names.get(posting.character_id or 0, "") if posting.character_id else "",
            posting.amount,
        ]
        for posting, entry, start in session.execute(query)
    ]
    header = [
        N_("Period"),
        N_("Entry"),
        N_("When"),
        N_("Kind"),
        N_("Memo"),
        N_("Reason"),
        N_("Account"),
        N_("Character"),
        N_("Amount"),
    ]
    return Table(N_("Ledger"), header, rows, frozenset({8}))


def balances_table(session: Session, actor_id: int, clan_id: int, period_id: int) -> Table:
    """Every account's balance in the period: opening, movements and closing (officers)."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    load_period(session, clan_id, period_id)
    names = close_preview.character_names(session, clan_id)
    totals: dict[tuple[str, int | None], list[int]] = {}
    query = (
        select(
            Posting.account_kind,
            Posting.character_id,
            JournalEntry.kind,
            JournalEntry.source_type,
            Posting.amount,
        )
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(Posting.period_id == period_id, Posting.clan_id == clan_id)
    )
    for kind, character_id, entry_kind, source_type, amount in session.execute(query):
        opening, moved = totals.setdefault((kind, character_id), [0, 0])
        reopened = entry_kind == EntryKind.REVERSAL and source_type == "period"
        if entry_kind == EntryKind.OPENING or reopened:  # a reopen reverses an opening
            totals[(kind, character_id)] = [opening + amount, moved]
        else:
            totals[(kind, character_id)] = [opening, moved + amount]

    def order(key: tuple[str, int | None]) -> tuple[bool, bytes]:
        return key[0] != AccountKind.MEMBER, sort_key(names.get(key[1] or 0, ""))

    rows = [
        [
            account_label(kind, names.get(cid or 0, "")),
            kind,
            opening,
            moved,
            opening + moved,
        ]
        for (kind, cid), (opening, moved) in sorted(totals.items(), key=lambda i: order(i[0]))
    ]
    header = [N_("Account"), N_("Kind"), N_("Opening"), N_("Movements"), N_("Closing")]
    return Table(N_("Balances"), header, rows, frozenset({2, 3, 4}))


def statement_table(
    session: Session, actor_id: int, clan_id: int, character_id: int | None, period_id: int | None
) -> Table:
    """A member's statement lines with the running balance (own, or anyone's for officers)."""
    stmt = statements.statement(session, actor_id, clan_id, character_id, period_id)
    names = {c.id: c.name for c in stmt.characters}
    tz = ZoneInfo(session.get(Clan, clan_id).timezone)
    rows = [
        [
            _local(line.occurred_at, tz),
            names.get(line.character_id, ""),
            line.kind.value,
            line.memo,
            line.amount,
            line.running,
        ]
        for line in stmt.lines
    ]
    header = [
        N_("When"),
        N_("Character"),
        N_("Kind"),
        N_("Memo"),
        N_("Amount"),
        N_("Running balance"),
    ]
    return Table(N_("Statement"), header, rows, frozenset({4, 5}))


def history_tables(
    session: Session, actor_id: int, clan_id: int, character_id: int | None
) -> list[Table]:
    """Each character's last twelve months (the given one, or the actor's own), month by
    month: diamonds earned, kills attended and the attendance rate."""
    if character_id is None:
        ids = list(
            session.execute(
                select(Character.id)
                .where(Character.clan_id == clan_id, Character.user_id == actor_id)
                .order_by(Character.name)
            ).scalars()
        )
    else:
        ids = [character_id]
    header = [
        N_("Character"),
        N_("Month"),
        N_("Earned"),
        N_("Kills attended"),
        N_("Kills"),
        N_("Attendance (%)"),
    ]
    tables = []
    for cid in ids:
        history = trends.member_history(session, actor_id, clan_id, cid)
        rows = [
            [
                history.character.name,
                m.month.strftime("%Y-%m"),
                m.earned,
                m.attended,
                m.kills,
                m.rate_percent,
            ]
            for m in history.months
        ]
        tables.append(Table(N_("History"), header, rows, frozenset({2})))
    return tables


def plan_table(session: Session, actor_id: int, clan_id: int, period_id: int) -> Table:
    """The period's transfer plan: the one to confirm, or the confirmed one with status."""
    preview = close.preview_close(session, actor_id, clan_id, period_id)
    rows = [
        [t.seq, t.payer, t.receiver, t.net, t.gross, t.fee, t.received, t.status.value]
        for t in preview.transfers
    ]
    header = [
        N_("#"),
        N_("Payer (buys)"),
        N_("Receiver (lists)"),
        N_("Net"),
        N_("Listing price"),
        N_("Exchange fee"),
        N_("Received"),
        N_("Status"),
    ]
    return Table(N_("Transfer plan"), header, rows, frozenset({3, 4, 5, 6}))


def to_csv(table: Table, header: list[str] | None = None) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet apps read the Chinese names right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header or table.header)
    for row in table.rows:
        writer.writerow([_cell_text(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _cell_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return _inert(value)


def _inert(value: Any) -> Any:
    """A text cell a spreadsheet will not run as a formula (names and memos are typed by
    players): text starting with = + - @ gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def _shown_width(value: Any) -> int:
    """About how many narrow characters ``value`` takes in a cell (CJK counts double)."""
    if isinstance(value, datetime):
        return 17  # yyyy-mm-dd hh:mm
    if isinstance(value, date):
        return 11
    text = str(value if value is not None else "")
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _size_columns(sheet: Any, header: list[str], rows: list[list[Any]]) -> None:
    """Each column as wide as its widest value (at most 50), dates in full."""
    for index, title in enumerate(header):
        widest = max([_shown_width(title), *(_shown_width(row[index]) for row in rows)])
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(50, widest + 2)
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index + 1, max_col=index + 1):
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"


def to_xlsx(tables: list[tuple[Table, list[str], str]]) -> bytes:
    """One sheet per ``(table, translated header, sheet title)``; diamonds as integers with
    a thousands format, bold headers, frozen header row."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table, header, title in tables:
        sheet = workbook.create_sheet(SHEET_TITLE_UNSAFE.sub("-", title)[:31] or "-")
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_inert(value) for value in row])
        _size_columns(sheet, header, table.rows)
        for column in table.money:
            letter = get_column_letter(column + 1)
            for (cell,) in sheet.iter_rows(min_row=2, min_col=column + 1, max_col=column + 1):
                cell.number_format = DIAMONDS_FORMAT
            sheet.column_dimensions[letter].width = max(14, sheet.column_dimensions[letter].width)
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class PrintableStatement:
    """A statement with totals that visibly add up: opening + credits + debits = closing.

    ``lines`` are the period's movements (the opening balance is one row at the top, not a
    line), each with its running balance from the opening. Credits are the lines that raise
    the balance (shares, transfers the character paid), debits the ones that lower it (items
    the character sold, transfers received): the heading follows the sign of each line.
    """

    statement: statements.Statement
    opening: int
    credits: int
    debits: int
    lines: list[statements.StatementLine]

    @property
    def closing(self) -> int:
        return self.opening + self.credits + self.debits


def printable_statement(
    session: Session, actor_id: int, clan_id: int, character_id: int | None, period_id: int | None
) -> PrintableStatement:
    """The statement of the actor's characters (or of ``character_id``) with its totals."""
    stmt = statements.statement(session, actor_id, clan_id, character_id, period_id)
    opening = stmt.opening
    running = opening
    moves = []
    for line in stmt.lines:
        if statements.is_opening(line):
            continue
        running += line.amount
        moves.append(replace(line, running=running))
    return PrintableStatement(
        statement=stmt,
        opening=opening,
        credits=sum(line.amount for line in moves if line.amount > 0),
        debits=sum(line.amount for line in moves if line.amount < 0),
        lines=moves,
    )
