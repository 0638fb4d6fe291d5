"""Sales racing a close, two closes racing each other and one sale submitted twice at once,
with real threads, on SQLite (a file database: ``BEGIN IMMEDIATE`` serialises writers) and on
PostgreSQL (row locks).

Each thread has its own session (its own connection and transaction), as two officers'
phones and a third officer's close would have on the server.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clanledger.extensions import db
from clanledger.models import Drop, DropStatus, EntryKind, JournalEntry, Period, Posting, Role, Sale
from clanledger.services import bosses, close, kills, sales
from clanledger.services.drops import list_drop, record_drop
from clanledger.services.errors import Conflict
from clanledger.services.periods import period_for_day

SALES_PER_OFFICER = 12


@pytest.fixture
def race(app, make_user, make_clan, add_member, make_character):
    leader = make_user()
    officers = [make_user() for _ in range(3)]
    clan = make_clan(leader=leader)
    for officer in officers:
        add_member(clan, officer, Role.OFFICER)
    chars = [make_character(clan, leader)] + [make_character(clan) for _ in range(4)]
    boss = bosses.add_boss(db.session, officers[0].id, clan.id, "巴風特")
    when = datetime(2026, 3, 5, 12, tzinfo=UTC)
    kill = kills.record_kill(
        db.session,
        officers[0].id,
        clan.id,
        boss_id=boss.id,
        killed_at=when,
        participants={c.id: "1" for c in chars},
        now=when,
    )
    drops = []
    for i in range(2 * SALES_PER_OFFICER):
        holder = chars[1 + i % 4].id
        drop = record_drop(
            db.session,
            officers[0].id,
            clan.id,
            kill_id=kill.id,
            name=f"item{i}",
            holder_character_id=holder,
        )
        list_drop(db.session, officers[0].id, clan.id, drop.id, asking_price=1000, now=when)
        drops.append(drop.id)
    march = period_for_day(db.session, clan, date(2026, 3, 1))
    period_for_day(db.session, clan, date(2026, 4, 1))
    db.session.commit()
    ids = SimpleNamespace(id=clan.id), [SimpleNamespace(id=o.id) for o in officers]
    march_id = march.id
    db.session.remove()  # the threads below work in their own sessions
    return ids[0], ids[1], drops, march_id


def test_sales_racing_a_close_never_slip_into_the_closed_period(app, race):
    clan, officers, drops, march_id = race
    engine = db.engine
    outcomes: dict[str, list[str]] = defaultdict(list)
    start = threading.Barrier(3)

    def sell(officer_id: int, drop_ids: list[int]) -> None:
        start.wait()
        for i, drop_id in enumerate(drop_ids):
            if len(outcomes["sold"]) >= 4:
                # Leave gaps: SQLite's busy handler polls, so a close waiting for the write
                # lock gets in between two sales, as it would between two officers' taps.
                time.sleep(0.05)
            with app.app_context(), Session(engine) as session:
                try:
                    sales.record_sale(
                        session,
                        officer_id,
                        clan.id,
                        drop_id,
                        received=900 + i,
                        sold_at=datetime(2026, 3, 20, tzinfo=UTC),
                        now=datetime(2026, 3, 31, tzinfo=UTC),
                    )
                    outcomes["sold"].append(drop_id)
                except Conflict:
                    session.rollback()
                    outcomes["refused"].append(drop_id)

    def close_march() -> None:
        start.wait()
        while len(outcomes["sold"]) < 4:  # close in the middle of the sales
            time.sleep(0.005)
        with app.app_context(), Session(engine) as session:
            close.confirm_close(session, officers[2].id, clan.id, march_id)
            outcomes["closed"].append("yes")

    threads = [
        threading.Thread(target=sell, args=(officers[0].id, drops[0::2])),
        threading.Thread(target=sell, args=(officers[1].id, drops[1::2])),
        threading.Thread(target=close_march),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes["closed"] == ["yes"]
    assert sorted(outcomes["sold"] + outcomes["refused"]) == sorted(drops)

    db.session.expire_all()
    # Every sale that committed is in March; every refused one left no trace.
    sold = set(db.session.execute(select(Sale.drop_id)).scalars())
    assert sold == set(outcomes["sold"])
    unsold = db.session.execute(select(Drop.status).where(Drop.id.in_(outcomes["refused"])))
    assert set(unsold.scalars()) <= {DropStatus.LISTED}
    march_sales = db.session.execute(
        select(func.count()).where(
            JournalEntry.period_id == march_id, JournalEntry.kind == EntryKind.SALE
        )
    ).scalar_one()
    assert march_sales == len(outcomes["sold"])
    # The opening of April equals March's balances exactly: nothing was posted into March
    # after the close read them (no lost update).
    march = dict(
        db.session.execute(
            select(Posting.character_id, func.sum(Posting.amount))
            .where(Posting.period_id == march_id)
            .group_by(Posting.character_id)
        ).all()
    )
    opening = db.session.execute(
        select(JournalEntry).where(JournalEntry.kind == EntryKind.OPENING)
    ).scalar_one()
    assert {p.character_id: p.amount for p in opening.postings} == {
        k: v for k, v in march.items() if v
    }
    assert outcomes["refused"], "the close came after every sale: no race was tested"


def test_two_closes_at_once_close_once(app, race):
    clan, officers, _drops, march_id = race
    start = threading.Barrier(2)
    results: list[str] = []

    def close_march(officer_id: int) -> None:
        start.wait()
        with app.app_context(), Session(db.engine) as session:
            try:
                close.confirm_close(session, officer_id, clan.id, march_id)
                results.append("closed")
            except Conflict:
                results.append("conflict")

    threads = [threading.Thread(target=close_march, args=(o.id,)) for o in officers[:2]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["closed", "conflict"]
    db.session.expire_all()
    assert db.session.get(Period, march_id).close_count == 1
    openings = db.session.execute(
        select(func.count()).where(JournalEntry.kind == EntryKind.OPENING)
    ).scalar_one()
    assert openings <= 1


def test_one_sale_submitted_twice_at_once_is_recorded_once(app, race):
    clan, officers, drops, _march_id = race
    start = threading.Barrier(2)
    results: list[str] = []

    def submit(officer_id: int) -> None:
        start.wait()
        with app.app_context(), Session(db.engine) as session:
            try:
                sales.record_sale(
                    session,
                    officer_id,
                    clan.id,
                    drops[0],
                    received=950,
                    sold_at=datetime(2026, 3, 20, tzinfo=UTC),
                    now=datetime(2026, 3, 21, tzinfo=UTC),
                )
                results.append("sold")
            except Conflict:
                results.append("conflict")

    threads = [threading.Thread(target=submit, args=(o.id,)) for o in officers[:2]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["conflict", "sold"]
    assert (
        db.session.execute(
            select(func.count()).where(JournalEntry.kind == EntryKind.SALE)
        ).scalar_one()
        == 1
    )
