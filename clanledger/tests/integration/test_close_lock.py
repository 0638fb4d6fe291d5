"""A closed period's journal never changes, whatever path tries to change it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from clanledger.extensions import db
from clanledger.models import (
    EntryKind,
    JournalEntry,
    Period,
    PeriodStatus,
    Posting,
    Role,
    Transfer,
    TransferStatus,
)
from clanledger.services import close, periods, transfers
from clanledger.services.errors import Conflict
from clanledger.services.journal import PostingLine, post_entry
from clanledger.services.periods import PeriodLocked, period_for_day

MONTHS = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]


@pytest.fixture
def small_clan(make_user, make_clan, make_character, add_member):
    def build():
        leader, officer = make_user(), make_user()
        clan = make_clan(leader=leader)
        add_member(clan, officer, Role.OFFICER)
        chars = [make_character(clan, leader)] + [make_character(clan) for _ in range(3)]
        for day in MONTHS:
            period_for_day(db.session, clan, day)
        db.session.commit()
        return clan, leader, officer, [c.id for c in chars]

    return build


def adjust(clan, actor_id: int, month: int, a: int, b: int, amount: int) -> JournalEntry:
    entry = post_entry(
        db.session,
        clan,
        kind=EntryKind.ADJUSTMENT,
        lines=[PostingLine("member", a, amount), PostingLine("member", b, -amount)],
        occurred_at=datetime(2026, month + 1, 15, tzinfo=UTC),
        actor_id=actor_id,
        reason="test",
    )
    db.session.commit()
    return entry


def test_every_write_path_into_a_closed_period_is_refused(small_clan):
    clan, _leader, officer, chars = small_clan()
    entry = adjust(clan, officer.id, 0, chars[1], chars[2], 50)
    january = db.session.get(Period, entry.period_id)
    close.confirm_close(db.session, officer.id, clan.id, january.id)

    with pytest.raises(Conflict, match="closed"):
        adjust(clan, officer.id, 0, chars[1], chars[2], 7)
    db.session.rollback()
    posting = db.session.execute(select(Posting).where(Posting.entry_id == entry.id)).scalars()
    first = next(iter(posting))
    first.amount += 1
    with pytest.raises(PeriodLocked):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(JournalEntry, entry.id))
    with pytest.raises(PeriodLocked):
        db.session.flush()
    db.session.rollback()
    db.session.add(
        JournalEntry(
            clan_id=clan.id,
            period_id=january.id,
            kind=EntryKind.ADJUSTMENT,
            occurred_at=datetime(2026, 1, 20, tzinfo=UTC),
        )
    )
    with pytest.raises(PeriodLocked):
        db.session.flush()
    db.session.rollback()
    # Moving a posting out of the closed period is a change to it as well.
    february = periods.next_period(db.session, clan, january)
    moved = db.session.execute(select(Posting).where(Posting.entry_id == entry.id)).scalars()
    next(iter(moved)).period_id = february.id
    with pytest.raises(PeriodLocked):
        db.session.flush()
    db.session.rollback()
    amounts = db.session.execute(
        select(Posting.amount).where(Posting.period_id == january.id).order_by(Posting.id)
    ).scalars()
    assert list(amounts) == [50, -50]


def test_periods_close_in_order(small_clan):
    clan, _leader, officer, chars = small_clan()
    adjust(clan, officer.id, 0, chars[1], chars[2], 10)
    feb = adjust(clan, officer.id, 1, chars[1], chars[2], 10).period_id
    with pytest.raises(Conflict, match="close in order"):
        close.confirm_close(db.session, officer.id, clan.id, feb)


def snapshot(period_id: int) -> list[tuple]:
    rows = db.session.execute(
        select(
            Posting.id, Posting.entry_id, Posting.account_kind, Posting.character_id, Posting.amount
        )
        .where(Posting.period_id == period_id)
        .order_by(Posting.id)
    )
    return [tuple(row) for row in rows]


OPS = st.one_of(
    st.tuples(
        st.just("post"),
        st.integers(0, 2),
        st.integers(0, 3),
        st.integers(0, 3),
        st.integers(1, 500),
    ),
    st.tuples(st.just("close"), st.integers(0, 1)),
    st.tuples(st.just("reopen"), st.integers(0, 1)),
    st.tuples(st.just("tamper"), st.integers(0, 2), st.integers(1, 5)),
    st.tuples(st.just("settle"), st.integers(0, 5)),
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(OPS, min_size=1, max_size=12))
@example(ops=[("close", 0), ("tamper", 0, 3), ("reopen", 0), ("tamper", 0, 2), ("close", 0)])
@example(ops=[("close", 0), ("close", 1), ("settle", 0), ("reopen", 0), ("reopen", 1)])
def test_random_operations_never_change_a_closed_period(small_clan, ops):
    clan, leader, officer, chars = small_clan()
    periods = [period_for_day(db.session, clan, day).id for day in MONTHS]
    frozen: dict[int, list[tuple]] = {}
    adjust(clan, officer.id, 0, chars[1], chars[2], 40)  # every month starts with a posting
    adjust(clan, officer.id, 1, chars[2], chars[3], 30)
    for op in ops:
        try:
            run(op, clan, leader, officer, chars, periods)
        except Conflict:
            db.session.rollback()
        for pid in periods:
            period = db.session.get(Period, pid)
            db.session.refresh(period)
            if period.status == PeriodStatus.CLOSED:
                frozen.setdefault(pid, snapshot(pid))
                assert snapshot(pid) == frozen[pid], f"closed period {pid} changed after {op}"
            else:
                frozen.pop(pid, None)
    total = db.session.execute(select(Posting.amount).where(Posting.clan_id == clan.id)).scalars()
    assert sum(total) == 0


def run(op, clan, leader, officer, chars, periods) -> None:
    kind = op[0]
    if kind == "post":
        _, month, a, b, amount = op
        if a != b:
            adjust(clan, officer.id, month, chars[a], chars[b], amount)
    elif kind == "close":
        close.confirm_close(db.session, officer.id, clan.id, periods[op[1]])
    elif kind == "reopen":
        close.reopen_period(db.session, leader.id, clan.id, periods[op[1]], "fix")
    elif kind == "tamper":
        # Shift diamonds between two postings of one entry (still balanced) and commit:
        # allowed in an open period, refused by the flush guard in a closed one.
        postings = (
            db.session.execute(
                select(Posting)
                .where(Posting.period_id == periods[op[1]])
                .order_by(Posting.id)
                .limit(2)
            )
            .scalars()
            .all()
        )
        if len(postings) == 2 and postings[0].entry_id == postings[1].entry_id and op[2]:
            postings[0].amount += op[2]
            postings[1].amount -= op[2]
            db.session.commit()
    elif kind == "settle":
        pending = (
            db.session.execute(
                select(Transfer)
                .where(Transfer.clan_id == clan.id, Transfer.status != TransferStatus.CONFIRMED)
                .order_by(Transfer.id)
            )
            .scalars()
            .all()
        )
        if pending:
            transfer = pending[op[1] % len(pending)]
            transfers.confirm_received(
                db.session, officer.id, clan.id, transfer.id, "the receiver has no account"
            )
