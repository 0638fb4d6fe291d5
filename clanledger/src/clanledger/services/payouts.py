"""What paying out every sale at once would cost: the comparison behind the saving that
the close page and the dashboard show.

The per-sale payouts come from the period's standing sale entries (a corrected sale counts
once, an undone one not at all): the holder, or the internal buyer, pays each participant
their share and the fund's cut to the treasurer.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from itertools import groupby
from operator import itemgetter

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session, aliased

from clanledger.domain.fees import FeePolicy
from clanledger.domain.ledger import Account, AccountKind
from clanledger.domain.money import Rate
from clanledger.domain.savings import per_sale_cost
from clanledger.models import EntryKind, JournalEntry, Posting
from clanledger.services.transfers import account_of

PER_SALE_KINDS = (EntryKind.SALE, EntryKind.INTERNAL_PURCHASE)


def per_sale_payments(
    session: Session, period_id: int, treasurer: int | None
) -> list[tuple[Account, Account, int]]:
    """``(payer, receiver, net)`` for paying every share right after each sale: the holder
    (or internal buyer) pays each participant, and the fund's cut to the treasurer; one
    payment per receiver and sale."""
    rows = session.execute(
        select(Posting.entry_id, Posting.account_kind, Posting.character_id, Posting.amount)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(standing_sales(period_id))
        .order_by(Posting.entry_id, Posting.id)
    ).all()
    # Without a treasurer the holder keeps the fund's cut: no payment (as the domain does).
    # The loop works on (kind, character id) keys: the period has thousands of postings.
    fund = (AccountKind.MEMBER.value, treasurer) if treasurer is not None else None
    member_kind = AccountKind.MEMBER.value
    fund_key = (AccountKind.FUND.value, None)
    owed_by: list[tuple[tuple[str, int | None], dict[tuple[str, int | None], int]]] = []
    for _entry, group in groupby(rows, key=itemgetter(0)):
        postings = [((kind, cid), amount) for _, kind, cid, amount in group]
        debtors = [key for key, amount in postings if amount < 0 and key[0] == member_kind]
        if len(debtors) != 1:
            continue  # not the shape of a sale (a corrected entry): no per-sale payout
        payer = debtors[0]
        owed: dict[tuple[str, int | None], int] = defaultdict(int)
        for key, amount in postings:
            receiver = fund if key == fund_key else key
            if amount > 0 and receiver is not None and receiver != payer:
                owed[receiver] += amount
        owed_by.append((payer, owed))
    accounts: dict[tuple[str, int | None], Account] = {}
    for key in {k for payer, owed in owed_by for k in (payer, *owed)}:
        accounts[key] = account_of(*key)  # type: ignore[arg-type]
    return [
        (accounts[payer], accounts[receiver], amount)
        for payer, owed in owed_by
        for receiver, amount in owed.items()
    ]


_COST_CACHE_SIZE = 64
_cost_cache: OrderedDict[tuple[object, ...], tuple[int, int]] = OrderedDict()


def per_sale_cost_of(
    session: Session,
    clan_id: int,
    period_id: int,
    treasurer: int | None,
    rate: Rate,
    policy: FeePolicy,
) -> tuple[int, int]:
    """``(fees, transfers)`` of paying out every sale of the period at once (the domain's
    :func:`per_sale_cost` of :func:`per_sale_payments`), remembered while the clan's
    journal does not change.

    Journal entries are only ever added (corrections and reopens post new entries), so the
    clan's entry count, last id and last creation time identify its journal: one small
    query checks them instead of regrouping thousands of postings on every view of the
    dashboard and the close page.
    """
    count, last_id, last_at = session.execute(
        select(func.count(), func.max(JournalEntry.id), func.max(JournalEntry.created_at)).where(
            JournalEntry.clan_id == clan_id
        )
    ).one()
    bind = str(session.get_bind().url)
    key = (bind, clan_id, period_id, treasurer, rate, policy, count, last_id, last_at)
    cost = _cost_cache.get(key)
    if cost is None:
        payments = per_sale_payments(session, period_id, treasurer)
        cost = _cost_cache[key] = per_sale_cost(payments, rate, policy)
        while len(_cost_cache) > _COST_CACHE_SIZE:
            _cost_cache.popitem(last=False)
    return cost


def count_sales(session: Session, period_id: int) -> int:
    return session.execute(
        select(func.count(JournalEntry.id)).where(standing_sales(period_id))
    ).scalar_one()


def standing_sales(period_id: int) -> ColumnElement[bool]:
    """Sale and internal-purchase entries of the period that no entry reverses: a corrected
    sale counts once, through its re-posted entry, and an undone sale not at all."""
    reversal = aliased(JournalEntry)
    return and_(
        JournalEntry.period_id == period_id,
        JournalEntry.kind.in_(PER_SALE_KINDS),
        ~select(reversal.id).where(reversal.reverses_id == JournalEntry.id).exists(),
    )
