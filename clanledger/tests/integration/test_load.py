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

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None, reason="needs locust (the dev extra)"
)


@pytest.fixture
def bench_load(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_load  # heavy: the benchmark module, found on the path set just above

    yield bench_load
    sys.modules.pop("bench_load", None)


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
