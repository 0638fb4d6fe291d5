"""Settlement transfers: planned -> paid (the payer marks it) -> confirmed (the receiver).

The receiver lists a junk item on the exchange at the planned gross price and the payer buys
it. The journal entry of a transfer is posted when the receiver confirms it, at the price
actually paid, into the open period of that day: a transfer paid at another price leaves the
difference on both balances there, so the next close carries or settles it (never lost).

The payer may attach a screenshot of the purchase: a PNG, JPEG or WebP image of at most
:data:`MAX_SCREENSHOT_BYTES`, checked by decoding it (Pillow), stored in the instance folder
under a random name.
"""

from __future__ import annotations

import io
import secrets
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased, defer

from clanledger.domain.collation import by_name
from clanledger.domain.errors import DomainError
from clanledger.domain.fees import FeePolicy, exchange_fee
from clanledger.domain.ledger import Account, AccountKind, member, transfer_postings
from clanledger.domain.messages import N_
from clanledger.domain.money import Rate
from clanledger.domain.notify import Event
from clanledger.models import (
    Character,
    Clan,
    EntryKind,
    JournalEntry,
    Period,
    PeriodStatus,
    Role,
    Transfer,
    TransferStatus,
)
from clanledger.models.types import utcnow
from clanledger.services import audit, authz, notify
from clanledger.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from clanledger.services.journal import PostingLine, lines_from_domain, post_entry
from clanledger.services.paging import LIKE_ESCAPE, contains_pattern, page_window

MAX_SCREENSHOT_BYTES = 5 * 1024 * 1024
SCREENSHOT_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
SCREENSHOT_DIR = "uploads/transfers"
BAD_IMAGE = N_("This is not a readable image: upload a PNG, JPEG or WebP screenshot.")


def account_of(kind: str, character_id: int | None) -> Account:
    return member(character_id) if kind == AccountKind.MEMBER else Account(AccountKind(kind))


def transfer_terms_paid(transfer: Transfer) -> tuple[int, int]:
    """``(gross, fee)`` of the transfer: as planned, or at the price actually paid."""
    if transfer.paid_gross is None or transfer.paid_gross == transfer.gross:
        return transfer.gross, transfer.fee
    return transfer.paid_gross, exchange_fee(transfer.paid_gross, Rate(transfer.fee_bps))


def transfer_lines(transfer: Transfer) -> list[PostingLine]:
    """The journal lines of ``transfer`` at the price paid, under the policy it was planned with."""
    gross, fee = transfer_terms_paid(transfer)
    postings = transfer_postings(
        member(transfer.payer_character_id),
        member(transfer.receiver_character_id),
        gross,
        fee,
        FeePolicy(transfer.fee_policy),
    )
    return lines_from_domain(postings)


def transfer_effect(transfer: Transfer) -> dict[Account, int]:
    """How posting ``transfer`` moves each balance."""
    effect: dict[Account, int] = defaultdict(int)
    for line in transfer_lines(transfer):
        effect[account_of(line.account_kind, line.character_id)] += line.amount
    return effect


def committed_effects(session: Session, clan: Clan, period: Period) -> dict[Account, int]:
    """Balance changes of transfers planned up to ``period`` whose entries are not posted in
    ``period`` or before: the plan of ``period`` settles the rest around them.

    For a closed period the transfers of its last close are left out: they are its plan.
    """
    posted_in = aliased(Period)
    rows = session.execute(
        select(Transfer, posted_in.starts_on)
        .options(defer(Transfer.why))  # a JSON list of names per transfer: not needed here
        .join(Period, Period.id == Transfer.period_id)
        .outerjoin(JournalEntry, JournalEntry.id == Transfer.entry_id)
        .outerjoin(posted_in, posted_in.id == JournalEntry.period_id)
        .where(
            Transfer.clan_id == clan.id,
            Period.starts_on <= period.starts_on,
            or_(posted_in.id.is_(None), posted_in.starts_on > period.starts_on),
        )
    ).all()
    totals: dict[Account, int] = defaultdict(int)
    for transfer, posted_start in rows:
        if posted_start is not None and posted_start <= period.starts_on:
            continue  # already in the balances
        if (
            period.status == PeriodStatus.CLOSED
            and transfer.period_id == period.id
            and transfer.close_round == period.close_count
        ):
            continue
        for account, amount in transfer_effect(transfer).items():
            totals[account] += amount
    return {a: v for a, v in totals.items() if v}


@dataclass(frozen=True)
class TransferRow:
    """A transfer with names, for lists and the dashboard to-do."""

    transfer: Transfer
    period: Period
    payer: str
    receiver: str
    mine_to_pay: bool
    mine_to_confirm: bool
    i_pay: bool = False  # the actor plays the payer (so never confirms it for the receiver)


def _load(session: Session, clan_id: int, transfer_id: int, *, lock: bool = False) -> Transfer:
    query = select(Transfer).where(Transfer.id == transfer_id, Transfer.clan_id == clan_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    transfer = session.execute(query).scalar_one_or_none()
    if transfer is None:
        raise NotFound()
    return transfer


def _owns(session: Session, user_id: int, character_id: int | None) -> bool:
    owner = session.execute(
        select(Character.user_id).where(Character.id == character_id)
    ).scalar_one_or_none()
    return owner is not None and owner == user_id


def _require_party(session: Session, actor_id: int, clan_id: int, character_id: int | None) -> None:
    """The character's player, or an officer acting for a roster character."""
    membership = authz.active_membership(session, actor_id, clan_id)
    if not _owns(session, actor_id, character_id) and membership.role.rank < Role.OFFICER.rank:
        raise PermissionDenied(N_("Only the player of this character or an officer can do this."))


def validate_screenshot(data: bytes) -> str:
    """Check an uploaded screenshot (size, then that it decodes) and return its extension.

    Raises:
        ValidationError: too large, or not a PNG, JPEG or WebP image.
    """
    if len(data) > MAX_SCREENSHOT_BYTES:
        raise ValidationError(N_("A screenshot can be at most 5 MiB."), field="screenshot")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(BAD_IMAGE, field="screenshot") from exc
    if kind not in SCREENSHOT_FORMATS:
        raise ValidationError(BAD_IMAGE, field="screenshot")
    return SCREENSHOT_FORMATS[kind]


def mark_paid(
    session: Session,
    actor_id: int,
    clan_id: int,
    transfer_id: int,
    paid_gross: int | None = None,
    screenshot: bytes | None = None,
    upload_root: Path | None = None,
) -> Transfer:
    """The payer bought the receiver's listing at ``paid_gross`` (default: the planned price).

    Raises:
        ValidationError: a negative price or a bad screenshot.
        Conflict: the transfer is not planned any more (paid twice, or already confirmed).
    """
    audit.set_actor(session, actor_id)
    transfer = _load(session, clan_id, transfer_id, lock=True)
    _require_party(session, actor_id, clan_id, transfer.payer_character_id)
    paid = transfer.gross if paid_gross is None else paid_gross
    if isinstance(paid, bool) or not isinstance(paid, int) or paid <= 0:
        raise ValidationError(
            N_("The price paid is a whole number of diamonds above 0."), "paid_gross"
        )
    if transfer.status != TransferStatus.PLANNED:
        session.rollback()
        raise Conflict(N_("This transfer is already marked paid."))
    stored = None
    if screenshot:
        if upload_root is None:
            raise ValidationError(N_("Screenshots cannot be stored here."), field="screenshot")
        extension = validate_screenshot(screenshot)
        stored = f"{SCREENSHOT_DIR}/{clan_id}/{transfer.id}-{secrets.token_hex(8)}.{extension}"
        path = upload_root / stored
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(screenshot)
    transfer.paid_gross = paid
    transfer.paid_at = utcnow()
    transfer.screenshot = stored
    transfer.status = TransferStatus.PAID
    notify.announce_transfer(session, clan_id, transfer, Event.TRANSFER_PAID)
    session.commit()
    return transfer


def _posting_period(session: Session, clan: Clan, transfer: Transfer) -> Period:
    """The open period the transfer's entry goes into: the first open one after the
    transfer's own period, where the close put the opening balances it settles."""
    own = session.get(Period, transfer.period_id)
    candidate = session.execute(
        select(Period)
        .where(
            Period.clan_id == clan.id,
            Period.status == PeriodStatus.OPEN,
            Period.starts_on > own.starts_on,  # type: ignore[union-attr]
        )
        .order_by(Period.starts_on)
        .limit(1)
    ).scalar_one_or_none()
    if candidate is None:
        raise Conflict(N_("There is no open period to record the transfer in."))
    return candidate


OWN_TRANSFER = N_(
    "You cannot confirm a transfer you pay or receive for someone else: "
    "the receiver's player confirms it, or another officer."
)
ON_BEHALF_NEEDS_REASON = N_(
    "Say why you confirm this transfer for its receiver (the audit log keeps it)."
)
RECEIVER_ONLY = N_("Only the receiver's player, or an officer with a reason, can confirm this.")


def confirmation_reason(
    session: Session, actor_id: int, clan_id: int, transfer: Transfer, reason: str | None
) -> str:
    """Separation of duties: the receiver's player confirms a transfer. An officer may
    confirm for the receiver only with a reason (returned, stored on the journal entry and
    so in the audit log), and never a transfer whose payer or receiver is their own.

    Raises:
        PermissionDenied: a member who is not the receiver, or an officer who is a party.
        ValidationError: an officer confirming for the receiver without a reason.
    """
    membership = authz.active_membership(session, actor_id, clan_id)
    if _owns(session, actor_id, transfer.receiver_character_id):
        return ""
    if membership.role.rank < Role.OFFICER.rank:
        raise PermissionDenied(RECEIVER_ONLY)
    if _owns(session, actor_id, transfer.payer_character_id):
        raise PermissionDenied(OWN_TRANSFER)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(ON_BEHALF_NEEDS_REASON, field="reason")
    return reason[:500]


def confirm_received(
    session: Session, actor_id: int, clan_id: int, transfer_id: int, reason: str | None = None
) -> Transfer:
    """The receiver got the diamonds: post the transfer's entry at the price paid.

    A transfer still "planned" can be confirmed directly (the payer forgot to mark it): it is
    taken as paid at the planned price. Who may confirm: :func:`confirmation_reason`.

    Raises:
        Conflict: already confirmed.
        PermissionDenied, ValidationError: see :func:`confirmation_reason`.
    """
    audit.set_actor(session, actor_id)
    transfer = _load(session, clan_id, transfer_id, lock=True)
    reason = confirmation_reason(session, actor_id, clan_id, transfer, reason)
    if transfer.status == TransferStatus.CONFIRMED:
        session.rollback()
        raise Conflict(N_("This transfer is already confirmed."))
    clan = session.get(Clan, clan_id)
    try:
        if transfer.paid_gross is None:
            transfer.paid_gross = transfer.gross
            transfer.paid_at = utcnow()
        entry = post_entry(
            session,
            clan,  # type: ignore[arg-type]
            kind=EntryKind.TRANSFER,
            lines=transfer_lines(transfer),
            occurred_at=utcnow(),
            actor_id=actor_id,
            memo=f"transfer {transfer.seq}",
            reason=reason,
            source=("transfer", transfer.id),
            idempotency_key=f"transfer:{transfer.id}",
            period=_posting_period(session, clan, transfer),  # type: ignore[arg-type]
        )
    except DomainError as exc:
        session.rollback()
        raise ValidationError(str(exc)) from exc
    transfer.entry_id = entry.id
    transfer.status = TransferStatus.CONFIRMED
    transfer.confirmed_at = utcnow()
    notify.announce_transfer(session, clan_id, transfer, Event.TRANSFER_CONFIRMED)
    session.commit()
    return transfer


def _transfer_query(session: Session, actor_id: int, clan_id: int):
    """``(Transfer, Period, payer, receiver)`` rows of the clan, limited to the actor's own
    transfers for a member; with the two character aliases to filter on."""
    membership = authz.active_membership(session, actor_id, clan_id)
    payer, receiver = aliased(Character, name="payer"), aliased(Character, name="receiver")
    query = (
        select(Transfer, Period, payer, receiver)
        .select_from(Transfer)
        .join(Period, Period.id == Transfer.period_id)
        .join(payer, payer.id == Transfer.payer_character_id)
        .join(receiver, receiver.id == Transfer.receiver_character_id)
        .where(Transfer.clan_id == clan_id)
    )
    if membership.role.rank < Role.OFFICER.rank:
        query = query.where(or_(payer.user_id == actor_id, receiver.user_id == actor_id))
    return query, payer, receiver


NEWEST_FIRST = (Period.starts_on.desc(), Transfer.close_round.desc(), Transfer.seq)


def _row(actor_id: int, t: Transfer, p: Period, pc: Character, rc: Character) -> TransferRow:
    return TransferRow(
        transfer=t,
        period=p,
        payer=pc.name,
        receiver=rc.name,
        mine_to_pay=pc.user_id == actor_id and t.status == TransferStatus.PLANNED,
        mine_to_confirm=rc.user_id == actor_id and t.status != TransferStatus.CONFIRMED,
        i_pay=pc.user_id == actor_id,
    )


def list_transfers(
    session: Session,
    actor_id: int,
    clan_id: int,
    period_id: int | None = None,
    *,
    outstanding_only: bool = False,
    mine_only: bool = False,
) -> list[TransferRow]:
    """Transfers of the clan (officers) or of the actor's characters (members), every one
    (the to-do and the per-member totals); the list page shows :func:`transfer_page`."""
    query, payer, receiver = _transfer_query(session, actor_id, clan_id)
    query = query.order_by(*NEWEST_FIRST)
    if period_id is not None:
        query = query.where(Transfer.period_id == period_id)
    if outstanding_only:
        query = query.where(Transfer.status != TransferStatus.CONFIRMED)
    if mine_only:
        query = query.where(or_(payer.user_id == actor_id, receiver.user_id == actor_id))
    return [_row(actor_id, *found) for found in session.execute(query)]


def transfer_row(session: Session, actor_id: int, clan_id: int, transfer_id: int) -> TransferRow:
    """One transfer as in the list: only one the actor may see there (else :class:`NotFound`)."""
    query, _payer, _receiver = _transfer_query(session, actor_id, clan_id)
    found = session.execute(query.where(Transfer.id == transfer_id)).one_or_none()
    if found is None:
        raise NotFound()
    return _row(actor_id, *found)


TRANSFERS_PER_PAGE = 50
OUTSTANDING = (TransferStatus.PLANNED, TransferStatus.PAID)


@dataclass(frozen=True)
class TransferFilter:
    """What the transfers list shows: any of these narrow it (None / False: no narrowing)."""

    statuses: tuple[TransferStatus, ...] | None = OUTSTANDING
    mine: bool = False  # paid or received by one of the signed-in player's characters
    period_id: int | None = None  # the month the transfer settles
    search: str = ""  # part of the payer's or the receiver's name, any case


@dataclass(frozen=True)
class TransferPage:
    rows: list[TransferRow]
    total: int  # transfers matching the filter, on every page
    page: int
    pages: int
    months: list[Period]  # the months that have transfers the actor may see, newest first


def transfer_page(
    session: Session, actor_id: int, clan_id: int, where: TransferFilter, page: int = 1
) -> TransferPage:
    """One page of the transfers the actor may see, newest month first, with how many match
    in all."""
    query, payer, receiver = _transfer_query(session, actor_id, clan_id)
    seen = query.with_only_columns(Transfer.period_id)
    months = session.execute(
        select(Period).where(Period.id.in_(seen)).order_by(Period.starts_on.desc())
    ).scalars()
    conditions = []
    if where.statuses:
        conditions.append(Transfer.status.in_(where.statuses))
    if where.mine:
        conditions.append(or_(payer.user_id == actor_id, receiver.user_id == actor_id))
    if where.period_id is not None:
        conditions.append(Transfer.period_id == where.period_id)
    if where.search.strip():
        pattern = contains_pattern(where.search)
        conditions.append(
            or_(
                payer.name.ilike(pattern, escape=LIKE_ESCAPE),
                receiver.name.ilike(pattern, escape=LIKE_ESCAPE),
            )
        )
    query = query.where(*conditions)
    total = session.execute(
        query.with_only_columns(func.count(Transfer.id)).order_by(None)
    ).scalar_one()
    page, pages, offset = page_window(total, page, TRANSFERS_PER_PAGE)
    found = session.execute(
        query.order_by(*NEWEST_FIRST).limit(TRANSFERS_PER_PAGE).offset(offset)
    ).all()
    rows = [_row(actor_id, *row) for row in found]
    return TransferPage(rows, total, page, pages, list(months))


def my_todo(session: Session, actor_id: int, clan_id: int) -> list[TransferRow]:
    """The actor's transfers still to pay or to confirm (the dashboard to-do)."""
    rows = list_transfers(session, actor_id, clan_id, outstanding_only=True, mine_only=True)
    return [row for row in rows if row.mine_to_pay or row.mine_to_confirm]


def outstanding_by_member(session: Session, actor_id: int, clan_id: int) -> dict[str, int]:
    """Officers: diamonds still to pay per payer, over the transfers nobody has marked paid
    yet (a paid one waits for its receiver's confirmation, not for a payment)."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    totals: dict[str, int] = defaultdict(int)
    for row in list_transfers(session, actor_id, clan_id, outstanding_only=True):
        if row.transfer.status == TransferStatus.PLANNED:
            totals[row.payer] += row.transfer.gross
    return {name: totals[name] for name in by_name(totals)}


def screenshot_file(
    session: Session, actor_id: int, clan_id: int, transfer_id: int, upload_root: Path
) -> Path:
    """The stored screenshot, for the two players of the transfer and officers."""
    transfer = _load(session, clan_id, transfer_id)
    membership = authz.active_membership(session, actor_id, clan_id)
    parties = {transfer.payer_character_id, transfer.receiver_character_id}
    mine = any(_owns(session, actor_id, c) for c in parties)
    if not mine and membership.role.rank < Role.OFFICER.rank:
        raise PermissionDenied(N_("Only the two players and officers can see this screenshot."))
    if not transfer.screenshot:
        raise NotFound()
    path = (upload_root / transfer.screenshot).resolve()
    if upload_root.resolve() not in path.parents or not path.is_file():
        raise NotFound()
    return path
