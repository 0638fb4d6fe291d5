"""Bids at the same instant, with real threads, on SQLite (``BEGIN IMMEDIATE`` serialises
writers) and PostgreSQL (the auction row is locked ``FOR UPDATE``): every bid is either
stored or refused with a reason, one bid wins, and two settlements at once book once.

Each thread has its own session, as two members' phones would have on the server.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clanledger.extensions import db
from clanledger.models import Auction, AuctionStatus, Bid, JournalEntry, Role, Sale
from clanledger.services import auctions, bosses, kills
from clanledger.services.drops import record_drop
from clanledger.services.errors import Conflict, ValidationError

T0 = datetime(2026, 3, 5, 20, 0, tzinfo=UTC)
ENDS = T0 + timedelta(hours=1)
BIDDERS = 4


@pytest.fixture
def room(app, make_user, make_clan, add_member, make_character):
    leader = make_user()
    clan = make_clan(leader=leader)
    members = [make_user() for _ in range(BIDDERS)]
    for member in members:
        add_member(clan, member, Role.MEMBER)
    chars = [make_character(clan, m) for m in members]
    boss = bosses.add_boss(db.session, leader.id, clan.id, "巴風特")
    kill = kills.record_kill(
        db.session,
        leader.id,
        clan.id,
        boss_id=boss.id,
        killed_at=T0 - timedelta(hours=1),
        participants={c.id: "1" for c in chars},
        now=T0,
    )
    holder = make_character(clan, leader)
    drop = record_drop(
        db.session,
        leader.id,
        clan.id,
        kill_id=kill.id,
        name="黑暗長劍",
        holder_character_id=holder.id,
        now=T0,
    )
    auction = auctions.open_auction(
        db.session,
        leader.id,
        clan.id,
        drop.id,
        start_price=1000,
        increment=100,
        ends_at=ENDS,
        now=T0,
    )
    ids = SimpleNamespace(
        clan=clan.id,
        auction=auction.id,
        bidders=[(m.id, c.id) for m, c in zip(members, chars, strict=True)],
    )
    db.session.remove()  # the threads below work in their own sessions
    return ids


def _race(app, room, amounts: list[int]) -> list[str]:
    """Each bidder bids its amount at the same instant; returns what each got."""
    start = threading.Barrier(len(amounts))
    results: list[str] = []

    def bid(user_id: int, character_id: int, amount: int) -> None:
        start.wait()
        with app.app_context(), Session(db.engine) as session:
            try:
                auctions.place_bid(
                    session,
                    user_id,
                    room.clan,
                    room.auction,
                    character_id=character_id,
                    amount=amount,
                    now=T0 + timedelta(minutes=5),
                )
                results.append(f"ok {amount}")
            except ValidationError as refused:
                results.append(f"refused {refused.params}")
            except Conflict:
                results.append("conflict")

    threads = [
        threading.Thread(target=bid, args=(*room.bidders[i], amount))
        for i, amount in enumerate(amounts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _stored(app) -> list[tuple[int, int]]:
    with app.app_context(), Session(db.engine) as session:
        return [
            tuple(r) for r in session.execute(select(Bid.character_id, Bid.amount).order_by(Bid.id))
        ]


def test_two_equal_bids_at_once_one_is_stored_the_other_told_the_new_minimum(app, room):
    results = _race(app, room, [1000, 1000])
    assert sorted(results) == ["ok 1000", "refused {'minimum': 1100}"]
    stored = _stored(app)
    assert len(stored) == 1 and stored[0][1] == 1000


def test_many_bids_at_once_none_is_lost_and_the_highest_wins(app, room):
    amounts = [1000, 1500, 1200, 2000]
    results = _race(app, room, amounts)
    accepted = sorted(int(r.split()[1]) for r in results if r.startswith("ok"))
    assert len(results) == len(amounts)
    assert all(r.startswith(("ok", "refused")) for r in results)
    assert sorted(a for _, a in _stored(app)) == accepted  # every accepted bid is stored
    assert 2000 in accepted  # the highest can never be refused as too low
    # Stored bids rise strictly in time: each was checked against the one before it.
    stored = [a for _, a in _stored(app)]
    assert stored == sorted(stored) and len(set(stored)) == len(stored)


def test_two_settlements_at_once_book_once(app, room):
    _race(app, room, [1000])
    start = threading.Barrier(2)
    outcomes: list[bool | str] = []

    def settle() -> None:
        start.wait()
        with app.app_context(), Session(db.engine) as session:
            try:
                outcomes.append(auctions.settle_auction(session, room.clan, room.auction, now=ENDS))
            except Conflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=settle) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes, key=str) == [False, True]
    with app.app_context(), Session(db.engine) as session:
        assert session.execute(select(func.count(Sale.id))).scalar_one() == 1
        assert session.execute(select(func.count(JournalEntry.id))).scalar_one() == 1
        assert session.get(Auction, room.auction).status == AuctionStatus.WON
