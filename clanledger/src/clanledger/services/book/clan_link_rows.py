"""What the clan link reads and writes for a batch of clan entries: the entries with
everything their mirror needs (a fixed number of queries per batch, whatever its size), the
claim accounts, the categories and the book lines."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from clanledger.domain.book import mirror as dm
from clanledger.domain.book.defaults import DEFAULT_CATEGORIES, DefaultCategory
from clanledger.domain.book.kinds import AccountType, CategoryKind
from clanledger.models import Character, Clan, Drop, JournalEntry, Period, Transfer
from clanledger.models.book import BookAccount, BookCategory, BookPosting
from clanledger.services.book.categories import by_code

DIAMONDS = "DIA"
CLAIM_NAMES = ("血盟應收：{clan}", "Owed by {clan}")


@dataclass
class Rows:
    """A batch of entries and what their mirror reads, by id."""

    entries: list[JournalEntry]
    originals: dict[int, JournalEntry] = field(default_factory=dict)
    clans: dict[int, Clan] = field(default_factory=dict)
    transfers: dict[int, Transfer] = field(default_factory=dict)
    items: dict[int, str] = field(default_factory=dict)
    months: dict[int, str] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    def note(self, entry: JournalEntry, locale: str | None) -> str:
        """What happened, in words (the item, the transfer's number, the reason)."""
        if entry.kind.value == dm.REVERSAL:
            original = self.originals.get(entry.reverses_id or 0)
            said = self.note(original, locale) if original else entry.memo
            return dm.note(dm.REVERSAL, locale, original=said, reason=entry.reason)[:2000]
        values: dict[str, object] = {"memo": entry.memo, "reason": entry.reason}
        if entry.source_type == "drop":
            values["item"] = self.items.get(entry.source_id or 0, entry.memo)
        transfer = self.transfers.get(entry.source_id or 0)
        if entry.source_type == "transfer" and transfer is not None:
            values["seq"] = transfer.seq
            values["month"] = self.months.get(transfer.period_id, "")
        if entry.source_type in ("wallets", "period"):
            values["month"] = self.months.get(entry.source_id or 0, "")
        return dm.note(entry.kind.value, locale, **values)[:2000]


def load_entries(session: Session, ids: list[int]) -> Rows:
    """The entries ``ids`` (oldest first) with their postings, the entries they reverse
    (down the chain), their clans, transfers, items, months and character names."""
    rows = Rows(_entries(session, ids))
    wanted = {e.reverses_id for e in rows.entries if e.reverses_id}
    while wanted - set(rows.originals):
        found = _entries(session, sorted(wanted - set(rows.originals)))
        rows.originals.update({e.id: e for e in found})
        wanted |= {e.reverses_id for e in found if e.reverses_id}
        if not found:
            break
    every = rows.entries + list(rows.originals.values())
    clan_ids = {e.clan_id for e in every}
    rows.clans = {c.id: c for c in session.scalars(select(Clan).where(Clan.id.in_(clan_ids)))}
    by_source: dict[str, set[int]] = {}
    for entry in every:
        if entry.source_type and entry.source_id is not None:
            by_source.setdefault(entry.source_type, set()).add(entry.source_id)
    transfer_ids = by_source.get("transfer", set())
    found = session.scalars(select(Transfer).where(Transfer.id.in_(transfer_ids)))
    rows.transfers = {t.id: t for t in found}
    drops = select(Drop.id, Drop.name).where(Drop.id.in_(by_source.get("drop", set())))
    rows.items = {drop_id: name for drop_id, name in session.execute(drops)}
    period_ids = {t.period_id for t in rows.transfers.values()}
    period_ids |= by_source.get("wallets", set()) | by_source.get("period", set())
    rows.months = {
        p.id: f"{p.starts_on:%Y-%m}"
        for p in session.scalars(select(Period).where(Period.id.in_(period_ids)))
    }
    characters = {p.character_id for e in rows.entries for p in e.postings if p.character_id}
    names = select(Character.id, Character.name).where(Character.id.in_(characters))
    rows.names = {character_id: name for character_id, name in session.execute(names)}
    return rows


def _entries(session: Session, ids: list[int]) -> list[JournalEntry]:
    return list(
        session.scalars(
            select(JournalEntry)
            .where(JournalEntry.id.in_(ids))
            .order_by(JournalEntry.id)
            .options(selectinload(JournalEntry.postings))
        )
    )


def entry_facts(entry: JournalEntry, rows: Rows) -> dm.EntryFacts:
    """The domain's view of ``entry`` (and of the entry it reverses)."""
    transfer = rows.transfers.get(entry.source_id or 0) if entry.source_type == "transfer" else None
    original = rows.originals.get(entry.reverses_id or 0)
    return dm.EntryFacts(
        kind=entry.kind.value,
        postings=tuple(
            dm.ClanPosting(str(p.account_kind), p.character_id, int(p.amount))
            for p in entry.postings
        ),
        source_type=entry.source_type,
        payer_id=transfer.payer_character_id if transfer else None,
        receiver_id=transfer.receiver_character_id if transfer else None,
        reversed=entry_facts(original, rows) if original is not None else None,
    )


def claim_account(session: Session, user_id: int, clan: Clan, locale: str | None) -> BookAccount:
    """The read-only account mirroring what ``clan`` owes the user (made on first use)."""
    ref = f"clan:{clan.id}"
    account = session.scalar(
        select(BookAccount).where(BookAccount.user_id == user_id, BookAccount.link_ref == ref)
    )
    if account is not None:
        return account
    english = (locale or "").startswith("en")
    base = CLAIM_NAMES[1 if english else 0].format(clan=clan.name)[:56]
    taken = set(session.scalars(select(BookAccount.name).where(BookAccount.user_id == user_id)))
    name, n = base, 2
    while name in taken:
        name, n = f"{base} ({clan.server})"[:60] if n == 2 else f"{base} {n}", n + 1
    account = BookAccount(
        user_id=user_id,
        name=name,
        type=AccountType.DIAMONDS,
        currency=DIAMONDS,
        minor_digits=0,
        read_only=True,
        link_ref=ref,
        sort=1000 + clan.id,
    )
    session.add(account)
    session.flush()
    return account


def _default(code: str) -> DefaultCategory | None:
    for parent in DEFAULT_CATEGORIES:
        for found in (parent, *parent.children):
            if found.code == code:
                return found
    return None


def category_id(
    session: Session, user_id: int, code: str, cache: dict[str, int], locale: str | None
) -> int:
    """The user's category for ``code`` (whatever it is called now), else its fallback,
    else a new top-level one with the default name (a user may remove the defaults)."""
    if code in cache:
        return cache[code]
    found = by_code(session, user_id, code) or (
        by_code(session, user_id, dm.FALLBACK[code]) if code in dm.FALLBACK else None
    )
    if found is None:
        default = _default(code)
        kind = default.kind if default else CategoryKind.EXPENSE
        name = default.name(locale) if default else code
        found = BookCategory(user_id=user_id, kind=kind, name=name, code=code, sort=999)
        session.add(found)
        session.flush()
    cache[code] = found.id
    return found.id


def mirror_lines(
    session: Session,
    user_id: int,
    result: dm.Mirror,
    claim: BookAccount,
    hand: BookAccount,
    names: dict[int, str],
    cache: dict[str, int],
    locale: str | None,
) -> list[BookPosting]:
    """The book lines of one mirrored entry: claim per character, in hand, balancing."""

    def line(account_id: int | None, category: int | None, amount: int, memo: str = ""):
        return BookPosting(
            user_id=user_id,
            account_id=account_id,
            category_id=category,
            amount=amount,
            currency=DIAMONDS,
            memo=memo[:200],
        )

    lines = [line(claim.id, None, a, names.get(cid, "")) for cid, a in result.claims.items()]
    if result.in_hand:
        lines.append(line(hand.id, None, result.in_hand))
    if result.balancing and result.category:
        cid = category_id(session, user_id, result.category, cache, locale)
        lines.append(line(None, cid, result.balancing))
    return lines
