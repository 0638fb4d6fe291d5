"""The load test in short: a few clans sign in, record loot, read their pages and close
their previous month at once against a real server (gunicorn, 2 workers on PostgreSQL; one
worker on SQLite), then every clan's journal sums to 0, holds exactly the kills, drops and
sales that succeeded, and its previous month is closed once with the planned transfers."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from clanledger.extensions import db
from clanledger.models import Period, PeriodStatus, Transfer, User
from clanledger.services import close

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

needs_locust = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None, reason="needs locust (the dev extra)"
)


@pytest.fixture
def bench_load(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_load  # heavy: the benchmark module, found on the path set just above

    yield bench_load
    sys.modules.pop("bench_load", None)
    sys.modules.pop("load_close", None)


@needs_locust
def test_clans_under_load_keep_balanced_ledgers(app, bench_load, tmp_path) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    workers = 2 if url.startswith("postgresql") else 1
    result = bench_load.run_load(
        db.session,
        url,
        (3, 4, 25),
        workers,
        tmp_path,
        hash_method="pbkdf2:sha256:1",
        think=(0.5, 2),  # busy members, so that 25 s hold many sales
    )
    assert result.problems == []
    assert result.counts.get("5xx", 0) == 0
    pages = {page.name: page for page in result.pages}
    # Every member signed in through the form, and loot went all the way to a sale.
    assert pages["sign in"].requests == 12 and pages["sign in"].failures == 0
    sold = sum(n for key, n in result.counts.items() if key.endswith(":sell item:ok"))
    assert sold >= 3
    assert pages["dashboard"].requests > 12 and pages["Aggregated"].p95_ms > 0
    # Every leader closed the previous month once through the page; the stale form was
    # refused as already closed.
    assert pages["close month"].requests == 3 and pages["close month"].failures == 0
    assert pages["close month again"].requests == 3
    assert pages["close month again"].failures == 0
    assert pages["close page"].p95_ms > 0
    clans = [clan["id"] for clan in result.plan["clans"]]
    assert all(result.counts.get(f"{c}:close month again:refused") == 1 for c in clans)
    months = [clan["previous_month"]["period_id"] for clan in result.plan["clans"]]
    previous = db.session.scalars(select(Period).where(Period.id.in_(months))).all()
    assert [(p.status, p.close_count) for p in previous] == [(PeriodStatus.CLOSED, 1)] * 3
    assert "3 of 3 clans closed their previous month" in result.closes


def test_the_check_catches_rows_that_differ_from_the_successful_posts(app, bench_load) -> None:
    plan = bench_load.seed_clans(db.session, 2, 3, "pbkdf2:sha256:1")
    first, second = (clan["id"] for clan in plan["clans"])
    assert bench_load.check_ledger(db.session, plan, {}) == []
    # One sale reported as successful in the first clan, none stored.
    problems = bench_load.check_ledger(db.session, plan, {f"{first}:sell item:ok": 1})
    assert problems == [f"clan {first}: 0 rows for 1 successful 'sell item' POSTs"]
    # An unanswered POST may have been stored, or not: both are consistent.
    assert bench_load.check_ledger(db.session, plan, {f"{second}:record kill:unknown": 1}) == []
    assert bench_load.check_ledger(db.session, plan, {"5xx": 2}) == ["2 responses were 5xx"]


def test_the_check_catches_closes_that_differ_from_the_posts_and_plan(app, bench_load) -> None:
    plan = bench_load.seed_clans(db.session, 2, 3, "pbkdf2:sha256:1")
    first, second = plan["clans"]
    assert first["previous_month"]["transfers"], "the previous month needs transfers"
    period = first["previous_month"]["period_id"]
    close.confirm_close(db.session, _leader_id(first), first["id"], period)
    db.session.expire_all()
    ok, unanswered = {f"{first['id']}:close month:ok": 1}, {f"{first['id']}:close month:unknown": 1}
    assert bench_load.check_ledger(db.session, plan, ok) == []
    assert bench_load.check_ledger(db.session, plan, unanswered) == []
    label = f"clan {first['id']}: the previous month"
    assert bench_load.check_ledger(db.session, plan, {}) == [
        f"{label} is closed 1 times, but no close POST succeeded"
    ]
    # The second clan's close reported as successful, its month still open.
    assert bench_load.check_ledger(
        db.session, plan, ok | {f"{second['id']}:close month:ok": 1}
    ) == [f"clan {second['id']}: the previous month is closed 0 times after its close succeeded"]
    # A stale form that was not refused as already closed, then a transfer gone missing.
    again = ok | {f"{first['id']}:close month again:failed": 1}
    assert bench_load.check_ledger(db.session, plan, again) == [
        f"{label}: a second close was not refused as already closed"
    ]
    db.session.delete(db.session.scalars(select(Transfer).limit(1)).one())
    db.session.commit()
    planned = len(first["previous_month"]["transfers"])
    assert bench_load.check_ledger(db.session, plan, ok) == [
        f"{label} has {planned - 1} transfers; the plan had {planned}"
    ]


def _leader_id(clan: dict) -> int:
    username = next(seat["username"] for seat in clan["seats"] if seat["leader"])
    return db.session.scalar(select(User.id).where(User.username == username))


def test_seeded_clans_have_a_leader_first_and_everyone_seated(app, bench_load) -> None:
    plan = bench_load.seating_order(bench_load.seed_clans(db.session, 3, 4, "pbkdf2:sha256:1"))
    seats = [seat for clan in plan["clans"] for seat in clan["seats"]]
    assert [seat["leader"] for seat in seats[:3]] == [True, True, True]
    assert not any(seat["leader"] for seat in seats[3:])
    assert len({seat["username"] for seat in seats}) == 12
