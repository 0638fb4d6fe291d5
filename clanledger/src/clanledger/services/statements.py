"""Member statements: the running balance of a member's character(s) in a period, every line
linked to the kill, item or adjustment behind it, and "explain my balance": the whole
balanced entry behind each line (who else got what, the weights, the fund cut).

Members read their own characters' statements; officers read everyone's. Every function here
runs a fixed number of queries whatever the number of lines (no N+1).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

from sqlalchemy import and_, case, select
from sqlalchemy.orm import Session

from clanledger.domain.attendance import kill_weights
from clanledger.domain.collation import by_name
from clanledger.domain.explain import explain_balance
from clanledger.domain.ledger import AccountKind
from clanledger.domain.messages import N_
from clanledger.models import (
    Attendance,
    Boss,
    Character,
    Clan,
    Drop,
    EntryKind,
    JournalEntry,
    Kill,
    Period,
    Posting,
    Role,
    Sale,
)
from clanledger.services import authz
from clanledger.services.errors import NotFound, PermissionDenied
from clanledger.services.periods import period_choice


@dataclass(frozen=True)
class Source:
    """What an entry is about: an item (with its kill) or something else."""

    type: str | None
    id: int | None
    item_name: str | None = None
    item_grade: str | None = None
    kill_id: int | None = None
    boss_name: str | None = None
    killed_at: datetime | None = None


@dataclass(frozen=True)
class StatementLine:
    entry_id: int
    occurred_at: datetime
    kind: EntryKind
    role: str  # sale_received | purchase_price | share | fund_cut | reversal | other
    character_id: int
    amount: int
    running: int
    memo: str
    reason: str
    source: Source
    reverses_id: int | None


@dataclass
class Statement:
    clan: Clan
    period: Period
    periods: list[Period]
    characters: list[Character]
    lines: list[StatementLine]
    by_character: dict[int, int] = field(default_factory=dict)

    @property
    def balance(self) -> int:
        """> 0: the clan owes these characters; < 0: they hold diamonds owed to others."""
        return sum(self.by_character.values())

    @property
    def names(self) -> dict[int, str]:
        return {c.id: c.name for c in self.characters}

    @property
    def opening(self) -> int:
        """The balance the period opened with (net of a reopen's reversal)."""
        return sum(line.amount for line in self.lines if is_opening(line))

    @property
    def credits(self) -> int:
        """Lines that raise the balance (shares, transfers paid), the opening left out."""
        return sum(line.amount for line in self.lines if line.amount > 0 and not is_opening(line))

    @property
    def debits(self) -> int:
        """Lines that lower the balance (items sold, transfers received, fees)."""
        return sum(line.amount for line in self.lines if line.amount < 0 and not is_opening(line))


def is_opening(line: StatementLine) -> bool:
    """A line of the opening balance: the opening entry of a close, or the reversal of one
    by a reopen (both are sourced to the closed period)."""
    if line.kind == EntryKind.OPENING:
        return True
    return line.kind == EntryKind.REVERSAL and line.source.type == "period"


# The opening balance (and a reopen's reversal of it) first, whenever the close posted it.
_OPENING_FIRST = case(
    (JournalEntry.kind == EntryKind.OPENING, 0),
    (and_(JournalEntry.kind == EntryKind.REVERSAL, JournalEntry.source_type == "period"), 0),
    else_=1,
)


@dataclass(frozen=True)
class EntryPosting:
    account_kind: str
    character_id: int | None
    character_name: str | None
    amount: int
    weight: Fraction | None  # the participant's weight, for a sale share
    is_mine: bool


@dataclass(frozen=True)
class EntryExplanation:
    """One entry behind a balance, complete: all its postings sum to zero."""

    entry_id: int
    occurred_at: datetime
    kind: EntryKind
    memo: str
    reason: str
    source: Source
    postings: list[EntryPosting]
    my_amount: int
    sale: Sale | None
    total_weight: Fraction | None


def _role(kind: EntryKind, account_kind: str, amount: int, is_buyer: bool) -> str:
    if kind == EntryKind.SALE:
        return "sale_received" if amount < 0 else "share"
    if kind == EntryKind.INTERNAL_PURCHASE:
        return "purchase_price" if amount < 0 and is_buyer else "share"
    return kind.value


def _characters(
    session: Session, actor_id: int, clan_id: int, character_id: int | None
) -> list[Character]:
    membership = authz.active_membership(session, actor_id, clan_id)
    if character_id is None:
        return by_name(
            session.execute(
                select(Character).where(Character.clan_id == clan_id, Character.user_id == actor_id)
            ).scalars(),
            lambda character: character.name,
        )
    character = session.get(Character, character_id)
    if character is None or character.clan_id != clan_id:
        raise NotFound()
    if character.user_id != actor_id and membership.role.rank < Role.OFFICER.rank:
        raise PermissionDenied(N_("Members read their own statement; officers read everyone's."))
    return [character]


def sources(session: Session, entries: list[JournalEntry]) -> dict[tuple[str, int], Source]:
    """The item and kill behind each entry that is about a drop (one query)."""
    drop_ids = {e.source_id for e in entries if e.source_type == "drop" and e.source_id}
    found: dict[tuple[str, int], Source] = {}
    if drop_ids:
        rows = session.execute(
            select(Drop.id, Drop.name, Drop.grade, Kill.id, Boss.name, Kill.killed_at)
            .join(Kill, Kill.id == Drop.kill_id)
            .join(Boss, Boss.id == Kill.boss_id)
            .where(Drop.id.in_(drop_ids))
        )
        for drop_id, name, grade, kill_id, boss, killed_at in rows:
            found[("drop", drop_id)] = Source(
                "drop", drop_id, name, grade, kill_id, boss, killed_at
            )
    for e in entries:
        if e.source_type and e.source_id is not None:
            found.setdefault((e.source_type, e.source_id), Source(e.source_type, e.source_id))
    return found


def _source(found: dict[tuple[str, int], Source], entry: JournalEntry) -> Source:
    if entry.source_type and entry.source_id is not None:
        return found[(entry.source_type, entry.source_id)]
    return Source(None, None)


def statement(
    session: Session,
    actor_id: int,
    clan_id: int,
    character_id: int | None = None,
    period_id: int | None = None,
) -> Statement:
    """The running balance of the actor's characters (or of ``character_id``) in the period
    (the one containing today unless ``period_id`` is given), oldest line first."""
    clan = authz.get_clan(session, actor_id, clan_id)
    characters = _characters(session, actor_id, clan_id, character_id)
    period, periods = period_choice(session, clan, period_id)
    ids = [c.id for c in characters]
    rows = (
        session.execute(
            select(Posting, JournalEntry)
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(
                Posting.clan_id == clan_id,
                Posting.period_id == period.id,
                Posting.account_kind == AccountKind.MEMBER,
                Posting.character_id.in_(ids),
            )
            .order_by(_OPENING_FIRST, JournalEntry.occurred_at, JournalEntry.id, Posting.id)
        ).all()
        if ids
        else []
    )
    found = sources(session, [entry for _, entry in rows])
    buyers = _buyers(session, [entry for _, entry in rows])
    lines = []
    by_character: dict[int, int] = defaultdict(int)
    explained = explain_balance((_MyPosting(p, e) for p, e in rows), _MINE)
    for line in explained.lines:
        posting, entry, running = line.posting.posting, line.posting.entry, line.running
        by_character[posting.character_id] += posting.amount
        is_buyer = buyers.get(entry.id) == posting.character_id
        lines.append(
            StatementLine(
                entry_id=entry.id,
                occurred_at=entry.occurred_at,
                kind=entry.kind,
                role=_role(entry.kind, posting.account_kind, posting.amount, is_buyer),
                character_id=posting.character_id,
                amount=posting.amount,
                running=running,
                memo=entry.memo,
                reason=entry.reason,
                source=_source(found, entry),
                reverses_id=entry.reverses_id,
            )
        )
    for c in characters:
        by_character.setdefault(c.id, 0)
    return Statement(clan, period, periods, characters, lines, dict(by_character))


_MINE = "the statement's characters"


@dataclass(frozen=True)
class _MyPosting:
    """A posting of one of the statement's characters, as
    :func:`domain.explain.explain_balance` reads it: all of them count as one account."""

    posting: Posting
    entry: JournalEntry
    account: str = _MINE

    @property
    def amount(self) -> int:
        return self.posting.amount


def _buyers(session: Session, entries: list[JournalEntry]) -> dict[int, int]:
    """Entry id -> buyer character of internal purchases among ``entries`` (one query)."""
    ids = [e.id for e in entries if e.kind == EntryKind.INTERNAL_PURCHASE]
    if not ids:
        return {}
    drop_ids = {e.source_id for e in entries if e.kind == EntryKind.INTERNAL_PURCHASE}
    by_drop = dict(
        session.execute(
            select(Sale.drop_id, Sale.buyer_character_id).where(Sale.drop_id.in_(drop_ids))
        ).all()
    )
    return {
        e.id: by_drop.get(e.source_id)
        for e in entries
        if e.kind == EntryKind.INTERNAL_PURCHASE and by_drop.get(e.source_id)
    }


def explain(
    session: Session,
    actor_id: int,
    clan_id: int,
    character_id: int,
    period_id: int | None = None,
) -> tuple[Statement, list[EntryExplanation]]:
    """Every entry behind the character's balance with all of its postings: for a sale, the
    amount received, the fund's cut, each participant's weight and share."""
    stmt = statement(session, actor_id, clan_id, character_id, period_id)
    entry_ids = list(dict.fromkeys(line.entry_id for line in stmt.lines))
    if not entry_ids:
        return stmt, []
    entries = {
        e.id: e
        for e in session.execute(
            select(JournalEntry).where(JournalEntry.id.in_(entry_ids))
        ).scalars()
    }
    postings = session.execute(
        select(Posting, Character.name)
        .outerjoin(Character, Character.id == Posting.character_id)
        .where(Posting.entry_id.in_(entry_ids))
        .order_by(Posting.entry_id, Posting.id)
    ).all()
    drop_ids = {e.source_id for e in entries.values() if e.source_type == "drop"}
    sales = {
        s.drop_id: s
        for s in session.execute(select(Sale).where(Sale.drop_id.in_(drop_ids))).scalars()
    }
    weights = _drop_weights(session, drop_ids)
    found = sources(session, list(entries.values()))
    grouped: dict[int, list[tuple[Posting, str | None]]] = defaultdict(list)
    for posting, name in postings:
        grouped[posting.entry_id].append((posting, name))
    result = []
    for entry_id in entry_ids:
        entry = entries[entry_id]
        about_drop = entry.source_type == "drop"
        result.append(
            _explained_entry(
                entry,
                grouped[entry_id],
                character_id,
                weights.get(entry.source_id, {}) if about_drop else {},
                sales.get(entry.source_id) if about_drop else None,
                _source(found, entry),
            )
        )
    return stmt, result


def _explained_entry(
    entry: JournalEntry,
    postings: list[tuple[Posting, str | None]],
    character_id: int,
    weights: dict[int, Fraction],
    sale: Sale | None,
    source: Source,
) -> EntryExplanation:
    is_sale = entry.kind in (EntryKind.SALE, EntryKind.INTERNAL_PURCHASE)
    lines = [
        EntryPosting(
            p.account_kind,
            p.character_id,
            name,
            p.amount,
            weights.get(p.character_id) if is_sale and p.amount > 0 else None,
            p.account_kind == AccountKind.MEMBER and p.character_id == character_id,
        )
        for p, name in postings
    ]
    return EntryExplanation(
        entry_id=entry.id,
        occurred_at=entry.occurred_at,
        kind=entry.kind,
        memo=entry.memo,
        reason=entry.reason,
        source=source,
        postings=lines,
        my_amount=sum(p.amount for p in lines if p.is_mine),
        sale=sale,
        total_weight=sum(weights.values(), Fraction(0)) if is_sale and weights else None,
    )


def _drop_weights(session: Session, drop_ids: set[int | None]) -> dict[int, dict[int, Fraction]]:
    """Drop id -> {character id: weight incl. caller bonus} of the drop's kill (one query)."""
    if not drop_ids:
        return {}
    rows = session.execute(
        select(
            Drop.id,
            Attendance.character_id,
            Attendance.weight,
            Kill.caller_character_id,
            Kill.caller_bonus,
        )
        .join(Kill, Kill.id == Drop.kill_id)
        .join(Attendance, Attendance.kill_id == Kill.id)
        .where(Drop.id.in_(drop_ids))
    ).all()
    attendance: dict[int, dict[int, Fraction]] = defaultdict(dict)
    callers: dict[int, tuple[int | None, Fraction | None]] = {}
    for drop_id, cid, weight, caller, bonus in rows:
        attendance[drop_id][cid] = weight
        callers[drop_id] = (caller, bonus)
    return {drop_id: kill_weights(att, *callers[drop_id]) for drop_id, att in attendance.items()}


def sale_breakdown(
    session: Session, actor_id: int, clan_id: int, drop_id: int
) -> list[EntryPosting]:
    """Who got what from an item's standing sale: every posting of its current entry, with
    each participant's weight (two queries; empty when the item is not sold)."""
    authz.active_membership(session, actor_id, clan_id)
    sale = session.execute(
        select(Sale).where(Sale.drop_id == drop_id, Sale.clan_id == clan_id)
    ).scalar_one_or_none()
    if sale is None or sale.entry_id is None:
        return []
    weights = _drop_weights(session, {drop_id}).get(drop_id, {})
    rows = session.execute(
        select(Posting, Character.name)
        .outerjoin(Character, Character.id == Posting.character_id)
        .where(Posting.entry_id == sale.entry_id)
        .order_by(Posting.id)
    ).all()
    return [
        EntryPosting(
            p.account_kind,
            p.character_id,
            name,
            p.amount,
            weights.get(p.character_id) if p.amount > 0 else None,
            is_mine=False,
        )
        for p, name in rows
    ]
