"""Any sequence of allowed (and refused) loot operations keeps the ledger summing to zero,
and a refused operation posts nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from clanledger.extensions import db
from clanledger.models import Drop, Posting, Sale
from clanledger.services import bosses, drops, kills, sales
from clanledger.services.errors import ServiceError

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)
N_CHARS = 4
weights = st.lists(st.sampled_from(["0", "1/2", "1", "3/2"]), min_size=N_CHARS, max_size=N_CHARS)
index = st.integers(0, 5)
price = st.integers(-5, 3000)
percent = st.integers(-1, 100)  # of the asking price: what the exchange paid (-1: negative)
operations = st.one_of(
    st.tuples(st.just("kill"), weights, st.none() | st.integers(0, N_CHARS - 1)),
    st.tuples(st.just("drop"), index, st.integers(0, N_CHARS - 1)),
    st.tuples(st.just("list"), index, price),
    st.tuples(st.just("list"), index, price),
    st.tuples(st.just("unsold"), index),
    st.tuples(st.just("store"), index),
    st.tuples(st.just("sell"), index, percent),
    st.tuples(st.just("sell"), index, percent),
    st.tuples(st.just("buy"), index, st.integers(0, N_CHARS - 1), price),
    st.tuples(st.just("correct"), index, percent),
    st.tuples(st.just("void"), index),
    st.tuples(st.just("rollcall"), index, weights),
)


def _received(drop_id: int, pct: int) -> int:
    asking = db.session.get(Drop, drop_id).asking_price if drop_id else None
    return (asking or 100) * pct // 100


def _apply(op, ctx) -> None:
    s, actor, clan = db.session, ctx["actor"], ctx["clan"]
    chars, kill_ids, drop_ids = ctx["chars"], ctx["kills"], ctx["drops"]
    pick = lambda ids, i: ids[i % len(ids)] if ids else 0  # noqa: E731
    name = op[0]
    if name == "kill":
        participants = {c: w for c, w in zip(chars, op[1], strict=True)}
        caller = chars[op[2]] if op[2] is not None else None
        kill = kills.record_kill(
            s,
            actor,
            clan,
            boss_id=ctx["boss"],
            killed_at=NOW,
            now=NOW,
            participants=participants,
            caller_character_id=caller,
        )
        kill_ids.append(kill.id)
    elif name == "drop":
        drop = drops.record_drop(
            s,
            actor,
            clan,
            kill_id=pick(kill_ids, op[1]),
            name="item",
            holder_character_id=chars[op[2]],
        )
        drop_ids.append(drop.id)
    elif name == "list":
        drops.list_drop(s, actor, clan, pick(drop_ids, op[1]), op[2], now=NOW)
    elif name == "unsold":
        drops.mark_unsold(s, actor, clan, pick(drop_ids, op[1]))
    elif name == "store":
        drops.store_drop(s, actor, clan, pick(drop_ids, op[1]))
    elif name == "sell":
        drop_id = pick(drop_ids, op[1])
        sales.record_sale(s, actor, clan, drop_id, received=_received(drop_id, op[2]), now=NOW)
    elif name == "buy":
        sales.record_internal_purchase(
            s,
            actor,
            clan,
            pick(drop_ids, op[1]),
            buyer_character_id=chars[op[2]],
            price=op[3],
            now=NOW,
        )
    elif name == "correct":
        drop_id = pick(drop_ids, op[1])
        received = _received(drop_id, op[2])
        sales.correct_sale(s, actor, clan, drop_id, received=received, reason="fix", now=NOW)
    elif name == "void":
        sales.void_sale(s, actor, clan, pick(drop_ids, op[1]), reason="undo", now=NOW)
    elif name == "rollcall":
        participants = {c: w for c, w in zip(chars, op[2], strict=True)}
        kills.set_roll_call(
            s, actor, clan, pick(kill_ids, op[1]), participants, reason="fix", now=NOW
        )


def _totals(clan_id: int) -> tuple[int, int, int]:
    count, total = db.session.execute(
        select(func.count(Posting.id), func.coalesce(func.sum(Posting.amount), 0)).where(
            Posting.clan_id == clan_id
        )
    ).one()
    fund = db.session.execute(
        select(func.coalesce(func.sum(Posting.amount), 0)).where(
            Posting.clan_id == clan_id, Posting.account_kind == "fund"
        )
    ).scalar_one()
    return int(count), int(total), int(fund)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operations, min_size=3, max_size=12))
def test_any_operation_sequence_keeps_the_ledger_at_zero(ops, make_user, make_clan, make_character):
    leader = make_user()
    clan = make_clan(leader=leader)
    chars = [make_character(clan, None).id for _ in range(N_CHARS)]
    boss = bosses.add_boss(db.session, leader.id, clan.id, "Boss")
    ctx = {
        "actor": leader.id,
        "clan": clan.id,
        "chars": chars,
        "boss": boss.id,
        "kills": [],
        "drops": [],
    }
    # A kill with everyone and three items (two listed): most operations have something to do.
    _apply(("kill", ["1"] * N_CHARS, 0), ctx)
    for holder in range(3):
        _apply(("drop", 0, holder), ctx)
    for item in range(2):
        _apply(("list", item, 1000), ctx)
    for op in ops:
        before = _totals(clan.id)
        try:
            _apply(op, ctx)
        except ServiceError:
            db.session.rollback()
            assert _totals(clan.id) == before, f"{op} was refused but changed the ledger"
            event(f"refused {op[0]}")
        else:
            event(f"done {op[0]}")  # see --hypothesis-show-statistics
        _, total, fund = _totals(clan.id)
        assert total == 0, f"ledger sums to {total} after {op}"
        for entry_total in db.session.execute(
            select(func.sum(Posting.amount))
            .where(Posting.clan_id == clan.id)
            .group_by(Posting.entry_id)
        ).scalars():
            assert entry_total == 0
        live = db.session.execute(select(Sale.received).where(Sale.clan_id == clan.id)).scalars()
        # The fund holds exactly its 10 % cut, floored, of every sale still standing.
        assert fund == sum(int(Fraction(r, 10)) for r in live)
