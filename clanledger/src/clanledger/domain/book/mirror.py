"""The clan link's arithmetic: what one clan journal entry means for one player's book.

A player's real diamond wealth from a clan is what they hold in the game (H) plus what the
clan owes them (C, their characters' clan balance: > 0 the clan owes them). The mirror
keeps C in a read-only claim account and H's moves in the player's diamonds account, so
each entry becomes three kinds of line (sign convention of :mod:`.entries`):

* **claim** ``+P`` per character: the entry's postings on the player's characters;
* **in hand** ``+ΔH``: diamonds that really moved in the game for the player;
* **balancing** ``-(P + ΔH)`` on a category: an income (their share of a sale) when the
  player gained, an expense (the exchange fee of a transfer, an item bought from the clan)
  when they lost. Zero: no category line (the entry only moved wealth between C and H).

What moves in the game, by entry kind (postings carry no role, so it is read back from the
signs, which the clan ledger fixes: :mod:`clanledger.domain.ledger`):

* a **sale**: the holder received the price; the holder's posting is the entry's only
  negative member posting, so ``ΔH = -(the player's negative postings)``;
* an **internal purchase**: the buyer pays from their clan balance, nothing moves (ΔH 0);
* a settlement **transfer**: the payer bought the listing at ``gross`` (the only positive
  member posting), the receiver got ``gross - fee`` (``fee`` is the positive FEES
  posting); who paid and who received comes from the transfer itself;
* an **adjustment** or a **wallet netting**: only balances move (ΔH 0); a netting between
  the player's own characters sums to 0 and leaves a zero-sum pair of claim lines;
* a **reversal** undoes its original exactly: opposite claim lines, opposite ΔH, and the
  original's category (a reversed share is a negative income, not an expense).

The opening entries of a close only carry the period's balances into the next period (and
a reopen's reversal of one only takes that carry back); they are not events and are never
mirrored: counting them would count each balance twice (:func:`is_carry`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

SALE = "sale"
INTERNAL_PURCHASE = "internal_purchase"
TRANSFER = "transfer"
ADJUSTMENT = "adjustment"
REVERSAL = "reversal"
OPENING = "opening"
WALLET_NETTING = "wallet_netting"

MEMBER = "member"
FEES = "fees"

# Default category codes (domain/book/defaults.py) of the balancing line.
GAIN = "clan_share"  # 血盟分鑽
LOSS_BY_KIND = {TRANSFER: "fees", INTERNAL_PURCHASE: "games"}  # 手續費, 遊戲
OTHER_LOSS = "other_expense"  # 其他支出
# Where a category the user removed falls back to, before a new one is made.
FALLBACK = {GAIN: "other_income", "fees": OTHER_LOSS, "games": OTHER_LOSS}


@dataclass(frozen=True)
class ClanPosting:
    """One posting of a clan entry: ``account_kind`` member | fund | fees."""

    account_kind: str
    character_id: int | None
    amount: int


@dataclass(frozen=True)
class EntryFacts:
    """What the mirror reads of a clan entry: its kind and postings, a transfer's payer and
    receiver characters, and for a reversal the entry it reverses (``source_type`` tells a
    reopen's reversal of an opening, sourced to the period)."""

    kind: str
    postings: tuple[ClanPosting, ...]
    source_type: str | None = None
    payer_id: int | None = None
    receiver_id: int | None = None
    reversed: EntryFacts | None = None


@dataclass(frozen=True)
class Mirror:
    """One entry in the book: claim change per character, diamonds moved in the game and
    the default category code of the balancing line (None when it is 0)."""

    claims: dict[int, int] = field(default_factory=dict)
    in_hand: int = 0
    category: str | None = None

    @property
    def claim(self) -> int:
        return sum(self.claims.values())

    @property
    def balancing(self) -> int:
        """The category line: ``-(P + ΔH)`` (< 0 an income, > 0 an expense)."""
        return -(self.claim + self.in_hand)


def is_carry(kind: str, source_type: str | None) -> bool:
    """Whether an entry only carries balances between periods (never mirrored): an opening,
    or a reopen's reversal of one (sourced to the period, as the statements read it)."""
    return kind == OPENING or (kind == REVERSAL and source_type == "period")


def claims_of(postings: Iterable[ClanPosting], mine: frozenset[int]) -> dict[int, int]:
    """The net posting per character of the player's (zeros left out), by character id."""
    totals: dict[int, int] = {}
    for p in postings:
        if p.account_kind == MEMBER and p.character_id in mine:
            totals[p.character_id] = totals.get(p.character_id, 0) + p.amount
    return {cid: totals[cid] for cid in sorted(totals) if totals[cid]}


def in_hand(facts: EntryFacts, mine: frozenset[int]) -> int:
    """Diamonds that moved in the game for the player in ``facts`` (not a reversal)."""
    if facts.kind == SALE:
        return -sum(
            p.amount
            for p in facts.postings
            if p.account_kind == MEMBER and p.character_id in mine and p.amount < 0
        )
    if facts.kind == TRANSFER:
        gross = sum(p.amount for p in facts.postings if p.account_kind == MEMBER and p.amount > 0)
        fee = sum(p.amount for p in facts.postings if p.account_kind == FEES and p.amount > 0)
        moved = 0
        if facts.payer_id in mine:
            moved -= gross
        if facts.receiver_id in mine:
            moved += gross - fee
        return moved
    return 0


def mirror(facts: EntryFacts, mine: frozenset[int]) -> Mirror:
    """What ``facts`` means for the player whose characters are ``mine`` (see the module
    docstring). A carry (:func:`is_carry`) mirrors as nothing."""
    if is_carry(facts.kind, facts.source_type):
        return Mirror()
    claims = claims_of(facts.postings, mine)
    if facts.kind == REVERSAL:
        if facts.reversed is None:
            moved, category = 0, None
        else:
            original = mirror(facts.reversed, mine)
            moved, category = -original.in_hand, original.category
        if category is None and sum(claims.values()) + moved:
            category = GAIN if -(sum(claims.values()) + moved) > 0 else OTHER_LOSS
        return Mirror(claims, moved, category)
    moved = in_hand(facts, mine)
    total = sum(claims.values()) + moved
    if total == 0:
        return Mirror(claims, moved, None)
    category = GAIN if total > 0 else LOSS_BY_KIND.get(facts.kind, OTHER_LOSS)
    return Mirror(claims, moved, category)


NOTES: dict[str, tuple[str, str]] = {
    SALE: ("拍賣所售出「{item}」", "Sold on the exchange: {item}"),
    INTERNAL_PURCHASE: ("血盟內部購買「{item}」", "Bought in the clan: {item}"),
    TRANSFER: ("結算轉帳 #{seq}（{month} 月結）", "Settlement transfer #{seq} ({month} close)"),
    ADJUSTMENT: ("血盟調整：{memo}", "Clan adjustment: {memo}"),
    WALLET_NETTING: ("同錢包角色互抵（{month}）", "Wallet netting ({month})"),
    REVERSAL: ("沖銷：{original}", "Reversal: {original}"),
}
REASON = ("（原因：{reason}）", " (reason: {reason})")


def note(kind: str, locale: str | None, **values: object) -> str:
    """The transaction's note in the player's language (zh_Hant unless English): what
    happened, with the item's name or the transfer's number."""
    english = (locale or "").startswith("en")
    zh, en = NOTES.get(kind, ("{memo}", "{memo}"))
    known = {"item": "", "seq": "", "month": "", "memo": "", "original": ""} | values
    text = (en if english else zh).format(**known)
    reason = str(values.get("reason") or "").strip()
    if reason:
        text += (REASON[1] if english else REASON[0]).format(reason=reason)
    return text.strip()
