"""The load test in short: a few clans sign in, record loot and read their pages at once
against a real server (gunicorn, 2 workers on PostgreSQL; one worker on SQLite), then every
clan's journal sums to 0 and holds exactly the kills, drops and sales that succeeded."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from clanledger.extensions import db

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


def test_seeded_clans_have_a_leader_first_and_everyone_seated(app, bench_load) -> None:
    plan = bench_load.seating_order(bench_load.seed_clans(db.session, 3, 4, "pbkdf2:sha256:1"))
    seats = [seat for clan in plan["clans"] for seat in clan["seats"]]
    assert [seat["leader"] for seat in seats[:3]] == [True, True, True]
    assert not any(seat["leader"] for seat in seats[3:])
    assert len({seat["username"] for seat in seats}) == 12
