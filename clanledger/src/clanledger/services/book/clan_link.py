"""The clan link (血盟連動): a read-only mirror of the player's clan ledgers in their book.

Turned on, every clan journal entry that posts to one of the user's characters, in a clan
where they are an active member, becomes one book transaction of kind ``clan`` with
``source_ref = "clan:<entry id>"`` (unique per user, so an entry is never counted twice,
however often or concurrently :func:`sync` runs). Its lines (:mod:`clanledger.domain.book.mirror`):
the change of the clan's debt on a read-only claim account per clan ("血盟應收：<clan>",
``link_ref = "clan:<clan id>"``), the diamonds that really moved in the game on the
diamonds account the user chose, and the rest on a share (income) or fee (expense) category.

So the claim account always equals the user's clan statement balance (:func:`check` proves
it against the statements service), and the diamonds account plus the claims is the
player's whole diamond wealth from the clan. Opening entries only carry balances into the
next period and are never mirrored. Leaving a clan keeps what was mirrored (new entries of
that clan are no longer read); turning the link off removes the mirror, which holds nothing
that is not in the clan ledger.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, cast, delete, exists, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clanledger.domain.book import mirror as dm
from clanledger.domain.book.kinds import AccountType, TxnKind
from clanledger.domain.messages import N_
from clanledger.models import (
    Character,
    Clan,
    JournalEntry,
    Membership,
    MembershipStatus,
    Period,
    PeriodStatus,
    Posting,
    User,
)
from clanledger.models.book import BookAccount, BookPosting, BookProfile, BookTransaction
from clanledger.services import statements
from clanledger.services.book import audit
from clanledger.services.book.accounts import balances, create_account, ensure_book, get_account
from clanledger.services.book.clan_link_rows import (
    claim_account,
    entry_facts,
    load_entries,
    mirror_lines,
)
from clanledger.services.errors import Conflict, NotFound, ValidationError, commit_or_conflict
from clanledger.services.periods import local_day

REF = "clan:"  # link_ref of a claim account ("clan:<clan id>"), source_ref of a mirrored entry
DIAMONDS = "DIA"
BATCH = 200
CHOOSE_DIAMONDS = N_("Choose one of your diamonds accounts (in 💎 diamonds).")
RACE = N_("The clan link changed in another tab. Reload the page.")


@dataclass(frozen=True)
class ClanMirror:
    """One clan: the mirrored claim next to the clan statement (None once the user left)."""

    clan_id: int
    clan_name: str
    account_id: int | None
    mirrored: int
    statement: int | None
    active: bool

    @property
    def matches(self) -> bool:
        return self.statement is None or self.mirrored == self.statement


@dataclass(frozen=True)
class LinkStatus:
    account: BookAccount | None  # the diamonds account receiving the game's moves (None: off)
    choices: list[BookAccount]  # the diamonds accounts the user may choose
    clans: list[ClanMirror]
    transactions: int  # mirrored transactions in the book

    @property
    def enabled(self) -> bool:
        return self.account is not None


def _active_characters(session: Session, user_id: int):
    """The user's characters in clans where they are an active member (a subquery)."""
    return (
        select(Character.id)
        .join(
            Membership,
            (Membership.clan_id == Character.clan_id) & (Membership.user_id == Character.user_id),
        )
        .where(Character.user_id == user_id, Membership.status == MembershipStatus.ACTIVE)
    )


def new_entries(session: Session, user_id: int, limit: int | None = None) -> list[int]:
    """Ids of the entries on the user's characters not mirrored yet, oldest first: one
    anti-join, what a visit costs when nothing is new."""
    mirrored = exists().where(
        BookTransaction.user_id == user_id,
        BookTransaction.source_ref == literal(REF, String) + cast(JournalEntry.id, String),
    )
    carry = (JournalEntry.kind == dm.OPENING) | (
        (JournalEntry.kind == dm.REVERSAL) & (JournalEntry.source_type == "period")
    )
    touched = select(Posting.entry_id).where(
        Posting.character_id.in_(_active_characters(session, user_id))
    )
    query = (
        select(JournalEntry.id)
        .where(JournalEntry.id.in_(touched), ~carry, ~mirrored)
        .order_by(JournalEntry.id)
    )
    return list(session.scalars(query.limit(limit) if limit else query))


def sync(session: Session, user_id: int) -> int:
    """Mirror every clan entry not mirrored yet (nothing when the link is off); commits.
    Returns how many transactions it made. A sync racing another tab's loses quietly: the
    other made the same rows."""
    profile = session.get(BookProfile, user_id)
    if profile is None or profile.clan_link_account_id is None:
        return 0
    made = 0
    while ids := new_entries(session, user_id, BATCH):
        try:
            count = _mirror(session, user_id, profile, ids)
            audit.record(session, user_id, "sync", "clan_link", None, f"+{count}")
            commit_or_conflict(session, RACE)
        except (Conflict, IntegrityError):
            session.rollback()
            return made
        made += count
    return made


def on_visit(session: Session, user_id: int) -> None:
    """The book's visit hook: keep the mirror current before the page reads it."""
    sync(session, user_id)


def _mirror(session: Session, user_id: int, profile: BookProfile, ids: list[int]) -> int:
    user = session.get(User, user_id)
    locale = user.locale if user else None
    mine = frozenset(session.scalars(select(Character.id).where(Character.user_id == user_id)))
    hand = session.get(BookAccount, profile.clan_link_account_id)
    assert hand is not None
    rows = load_entries(session, ids)
    claims: dict[int, BookAccount] = {}
    categories: dict[str, int] = {}
    for entry in rows.entries:
        clan = rows.clans[entry.clan_id]
        if clan.id not in claims:
            claims[clan.id] = claim_account(session, user_id, clan, locale)
        facts = entry_facts(entry, rows)
        result = dm.mirror(facts, mine)
        txn = BookTransaction(
            user_id=user_id,
            kind=TxnKind.CLAN,
            occurred_on=local_day(clan, entry.occurred_at),
            payee=clan.name[:128],
            note=rows.note(entry, locale),
            source_ref=f"{REF}{entry.id}",
        )
        txn.postings = mirror_lines(
            session, user_id, result, claims[clan.id], hand, rows.names, categories, locale
        )
        session.add(txn)
    session.flush()
    return len(rows.entries)


def _diamonds_account(session: Session, user_id: int, account_id: int | None) -> BookAccount:
    if account_id is None:
        user = session.get(User, user_id)
        english = user is not None and (user.locale or "").startswith("en")
        name = "Diamonds" if english else "鑽石"
        taken = set(session.scalars(select(BookAccount.name).where(BookAccount.user_id == user_id)))
        n = 2
        base = name
        while name in taken:
            name, n = f"{base} {n}", n + 1
        return create_account(session, user_id, name, AccountType.DIAMONDS, DIAMONDS)
    try:
        account = get_account(session, user_id, account_id)
    except NotFound:
        raise ValidationError(CHOOSE_DIAMONDS, field="account") from None
    if (
        account.type is not AccountType.DIAMONDS
        or account.currency != DIAMONDS
        or account.read_only
        or account.archived
    ):
        raise ValidationError(CHOOSE_DIAMONDS, field="account")
    return account


def enable(session: Session, user_id: int, account_id: int | None) -> BookAccount:
    """Turn the link on with the diamonds account ``account_id`` (None: make one), or move
    it to another account (the lines already mirrored move with it); then mirror."""
    profile = ensure_book(session, user_id)
    account = _diamonds_account(session, user_id, account_id)
    old = profile.clan_link_account_id
    if old == account.id:
        return account
    if old is not None:
        mirrored = select(BookTransaction.id).where(
            BookTransaction.user_id == user_id, BookTransaction.source_ref.like(f"{REF}%")
        )
        session.execute(
            update(BookPosting)
            .where(BookPosting.account_id == old, BookPosting.transaction_id.in_(mirrored))
            .values(account_id=account.id)
        )
    profile.clan_link_account_id = account.id
    before = {"account_id": old} if old is not None else None
    after = {"account_id": account.id}
    audit.record(session, user_id, "enable", "clan_link", account.id, account.name, before, after)
    commit_or_conflict(session, RACE)
    sync(session, user_id)
    return account


def disable(session: Session, user_id: int) -> int:
    """Turn the link off: the mirrored transactions and the claim accounts go (they only
    mirror the clan ledgers, which keep everything); the user's diamonds account stays with
    what they entered themselves. Audited; returns how many transactions went."""
    profile = ensure_book(session, user_id)
    mirrored = select(BookTransaction.id).where(
        BookTransaction.user_id == user_id,
        BookTransaction.kind == TxnKind.CLAN,
        BookTransaction.source_ref.like(f"{REF}%"),
    )
    count = len(session.scalars(mirrored).all())
    session.execute(delete(BookPosting).where(BookPosting.transaction_id.in_(mirrored)))
    session.execute(
        delete(BookTransaction).where(
            BookTransaction.user_id == user_id,
            BookTransaction.kind == TxnKind.CLAN,
            BookTransaction.source_ref.like(f"{REF}%"),
        )
    )
    accounts = delete(BookAccount).where(
        BookAccount.user_id == user_id, BookAccount.link_ref.like(f"{REF}%")
    )
    was = profile.clan_link_account_id
    profile.clan_link_account_id = None
    session.flush()
    session.execute(accounts)
    before = {"account_id": was, "transactions": count}
    audit.record(session, user_id, "disable", "clan_link", was, f"-{count}", before)
    commit_or_conflict(session, RACE)
    return count


def _statement_balance(session: Session, user_id: int, clan_id: int) -> int:
    """The user's clan statement balance: the sum of their statements over the clan's open
    periods (a closed period's balance opens the next one; periods close in order)."""
    open_periods = session.scalars(
        select(Period.id).where(Period.clan_id == clan_id, Period.status == PeriodStatus.OPEN)
    ).all()
    return sum(
        statements.statement(session, user_id, clan_id, period_id=pid).balance
        for pid in open_periods
    )


def check(session: Session, user_id: int, with_statements: bool = True) -> list[ClanMirror]:
    """Per clan (where the user plays, or a claim account is kept), the mirrored claim and
    the clan statement balance beside it: they are equal whenever the mirror is current.
    Without ``with_statements`` the statements are not read (statement None)."""
    accounts = {
        int(a.link_ref.removeprefix(REF)): a
        for a in session.scalars(
            select(BookAccount).where(
                BookAccount.user_id == user_id, BookAccount.link_ref.like(f"{REF}%")
            )
        )
    }
    active = set(
        session.scalars(
            select(Character.clan_id).where(Character.id.in_(_active_characters(session, user_id)))
        )
    )
    totals = balances(session, user_id)
    clans = session.scalars(select(Clan).where(Clan.id.in_(set(accounts) | active))).all()
    rows = []
    for clan in sorted(clans, key=lambda c: c.id):
        account = accounts.get(clan.id)
        rows.append(
            ClanMirror(
                clan_id=clan.id,
                clan_name=clan.name,
                account_id=account.id if account else None,
                mirrored=totals.get(account.id, 0) if account else 0,
                statement=_statement_balance(session, user_id, clan.id)
                if with_statements and clan.id in active
                else None,
                active=clan.id in active,
            )
        )
    return rows


def link_status(session: Session, user_id: int, with_statements: bool = True) -> LinkStatus:
    """What the clan link page shows (the home panel leaves the statements out: it shows
    the mirrored claims only)."""
    profile = ensure_book(session, user_id)
    account = (
        session.get(BookAccount, profile.clan_link_account_id)
        if profile.clan_link_account_id
        else None
    )
    choices = list(
        session.scalars(
            select(BookAccount)
            .where(
                BookAccount.user_id == user_id,
                BookAccount.type == AccountType.DIAMONDS,
                BookAccount.currency == DIAMONDS,
                BookAccount.read_only.is_(False),
                BookAccount.archived.is_(False),
            )
            .order_by(BookAccount.sort, BookAccount.id)
        )
    )
    count = len(
        session.scalars(
            select(BookTransaction.id).where(
                BookTransaction.user_id == user_id, BookTransaction.kind == TxnKind.CLAN
            )
        ).all()
    )
    return LinkStatus(account, choices, check(session, user_id, with_statements), count)
