"""Load test: many clans on one production server at once.

N clans x M members (default 50 x 30) are created through the models in one transaction,
each clan with a previous month that has ended (a few kills, their items sold, recorded
through the services and dated in that month; see ``load_close.py``). Then gunicorn (the
production settings, several workers) serves them on PostgreSQL while Locust plays every
member for a duration (default 5 minutes): each signs in through the web form and reads its
dashboard and statement; each clan's leader records kills with the whole roster, items
dropped, listed and sold in the current month, and once, a fifth to two fifths into the
run, closes the previous month through the close page (its hidden plan fields, CSRF token
and tick box), then submits that form again, which must be refused as already closed. A
member waits 10-30 s between two actions (``--think``), so 1,500 members make about 75
actions a second. Prints requests/s, median and p95 per page and the error count, then
checks the ledger: every clan's journal sums to 0 (and every entry); the kills, drops and
sales stored per clan equal the POSTs Locust saw succeed (plus at most those left
unanswered); every previous month is closed once if its close succeeded (once or not at
all if unanswered), with the transfers planned at set-up and one opening entry in the next
month. Exits 1 on any 5xx or inconsistency.

Run: ``.venv/bin/python clanledger/benchmarks/bench_load.py`` (``--help`` for the options;
``--clans 3 --members 5 --duration 30`` for a quick run). PostgreSQL comes from
``--database-url`` or ``BENCH_DATABASE_URL`` (default: the local server, database
``clanledger_load``, created if missing and wiped).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dateutil.relativedelta import relativedelta
from load_close import (
    Seat,
    check_closes,
    close_summary,
    previous_month,
    seed_previous_month,
)
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from tqdm import tqdm
from werkzeug.security import generate_password_hash

from clanledger.models import (
    Boss,
    Character,
    Clan,
    ClanRate,
    Drop,
    JournalEntry,
    Kill,
    Membership,
    Posting,
    RateKind,
    Role,
    Sale,
    User,
)
from clanledger.production import gunicorn_command

HERE = Path(__file__).resolve().parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/clanledger_load"
SECRET = "load-test-secret-not-for-production-0123456789"
PASSWORD = "load test 2026"
# The counted POSTs and the rows each one stores.
COUNTED = {"record kill": Kill, "record drop": Drop, "sell item": Sale}


@dataclass(frozen=True)
class PageStat:
    name: str
    requests: int
    failures: int
    per_second: float
    median_ms: float
    p95_ms: float


@dataclass
class LoadResult:
    pages: list[PageStat]
    counts: dict[str, int]
    problems: list[str]
    closes: str  # the month-end closes in one line
    plan: dict  # the clans played
    seconds: float
    load_average: float


def seed_clans(session: Session, clans: int, members: int, hash_method: str) -> dict:
    """Create ``clans`` clans of ``members`` members each (member 0 leads), one character
    each, a 5 % fee and 10 % fund cut from the previous month and one boss, then the
    previous month's loot of each (:mod:`load_close`); the Locust plan."""
    password_hash = generate_password_hash(PASSWORD, method=hash_method)
    start = previous_month("Asia/Taipei") - relativedelta(months=1)
    plan = {"password": PASSWORD, "clans": []}
    seats = []
    for c in range(clans):
        clan = Clan(name=f"壓測血盟{c:03d}", server="肯特01", invite_code=f"LOAD{c:05d}")
        users = [
            User(username=f"c{c:03d}m{m:03d}", display_name=f"盟員{m}", password_hash=password_hash)
            for m in range(members)
        ]
        session.add_all([clan, *users])
        session.flush()
        characters = [
            Character(clan_id=clan.id, user_id=u.id, name=f"角色{m:03d}", char_class="騎士")
            for m, u in enumerate(users)
        ]
        boss = Boss(clan_id=clan.id, name="巴風特")
        session.add_all([*characters, boss, *_memberships(clan, users), *_rates(clan, start)])
        session.flush()
        plan["clans"].append(_clan_plan(clan, boss, users, characters))
        seats.append((clan, Seat(users[0].id, boss.id, characters)))
    session.commit()
    for c, (clan, seat) in enumerate(tqdm(seats, desc="previous months", disable=None)):
        plan["clans"][c]["previous_month"] = seed_previous_month(session, c, clan, seat)
    session.rollback()  # end the last read: on SQLite the server's writes would wait for it
    return plan


def _memberships(clan: Clan, users: list[User]) -> list[Membership]:
    return [
        Membership(
            clan_id=clan.id,
            user_id=u.id,
            role=Role.LEADER if m == 0 else Role.MEMBER,
            status="active",
        )
        for m, u in enumerate(users)
    ]


def _rates(clan: Clan, start: date) -> list[ClanRate]:
    return [
        ClanRate(clan_id=clan.id, kind=RateKind.EXCHANGE_FEE, bps=500, effective_from=start),
        ClanRate(clan_id=clan.id, kind=RateKind.FUND_CUT, bps=1000, effective_from=start),
    ]


def _clan_plan(clan: Clan, boss: Boss, users: list[User], characters: list[Character]) -> dict:
    seats = [
        {"username": u.username, "character_id": ch.id, "leader": m == 0}
        for m, (u, ch) in enumerate(zip(users, characters, strict=True))
    ]
    return {
        "id": clan.id,
        "timezone": clan.timezone or "Asia/Taipei",
        "boss_id": boss.id,
        "characters": [ch.id for ch in characters],
        "seats": seats,
    }


def seating_order(plan: dict) -> dict:
    """The plan with every clan's leader seated before any member (Locust starts users in
    this order)."""
    leaders = [dict(clan, seats=clan["seats"][:1]) for clan in plan["clans"]]
    members = [dict(clan, seats=clan["seats"][1:]) for clan in plan["clans"]]
    return {"password": plan["password"], "clans": leaders + members}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def production_server(url: str, workers: int, log: Path) -> Iterator[str]:
    """gunicorn with the production settings on ``url``; yields its base URL."""
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "LOGIN_RATE_LIMIT": "100000 per minute",  # every simulated member signs in from here
        "GUNICORN_LOG_LEVEL": "warning",
    }
    command = gunicorn_command(f"127.0.0.1:{port}", workers, None)
    command.insert(-1, "--access-logfile=/dev/null")
    with log.open("w") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base, server)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=30)


def wait_until_up(base: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer /healthz within {seconds:.0f} s")


def run_locust(
    base: str, plan: dict, users: int, seconds: int, out: Path, think: tuple[float, float]
) -> dict[str, int]:
    """Locust headless in its own process (it patches the standard library with gevent);
    returns the counts the users wrote."""
    plan_path, counts_path = out / "plan.json", out / "counts.json"
    plan_path.write_text(json.dumps(seating_order(plan)))
    env = os.environ | {
        "CLANLEDGER_LOAD_PLAN": str(plan_path),
        "CLANLEDGER_LOAD_COUNTS": str(counts_path),
        "CLANLEDGER_LOAD_WAIT": f"{think[0]},{think[1]}",
        # Each leader closes the previous month a fifth to two fifths into the run.
        "CLANLEDGER_LOAD_CLOSE": f"{seconds * 0.2:g},{seconds * 0.4:g}",
    }
    # Sign-ins hash passwords (scrypt): start at most 10 members a second.
    spawn_rate = max(1, min(10, users // 10))
    command = [
        *[sys.executable, "-m", "locust", "-f", str(HERE / "locustfile_clans.py"), "--headless"],
        *["--host", base, "-u", str(users), "-r", str(spawn_rate), "-t", f"{seconds}s"],
        *["--stop-timeout", "60", "--csv", str(out / "locust"), "--only-summary"],
        *["--loglevel", "WARNING", "--exit-code-on-error", "0"],
    ]
    log = out / "locust.log"
    with log.open("w") as output:
        locust = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        _show_progress(locust, seconds)
    if locust.returncode != 0 or not counts_path.is_file():
        tail = log.read_text().strip().splitlines()[-5:]
        raise RuntimeError(f"locust failed (status {locust.returncode}): " + " | ".join(tail))
    return json.loads(counts_path.read_text())


def _show_progress(process: subprocess.Popen, seconds: int) -> None:
    """A progress bar over the run's duration while ``process`` works (on a terminal)."""
    with tqdm(total=seconds, unit="s", desc="load", disable=None, leave=False) as bar:
        while process.poll() is None:
            time.sleep(1)
            if bar.n < seconds:
                bar.update(1)


def read_stats(out: Path) -> list[PageStat]:
    """Per-page figures from Locust's ``locust_stats.csv`` (the aggregate row last)."""
    with (out / "locust_stats.csv").open() as f:
        rows = list(csv.DictReader(f))
    return [
        PageStat(
            name=row["Name"],
            requests=int(row["Request Count"]),
            failures=int(row["Failure Count"]),
            per_second=float(row["Requests/s"]),
            median_ms=float(row["Median Response Time"] or 0),
            p95_ms=float(row["95%"] or 0) if row["95%"] != "N/A" else 0.0,
        )
        for row in rows
    ]


def check_ledger(session: Session, plan: dict, counts: dict[str, int]) -> list[str]:
    """What does not add up: a clan whose journal (or one entry) does not sum to 0, rows
    stored during the run that differ from the POSTs that succeeded, a previous month whose
    close does not match its POSTs and plan (:func:`load_close.check_closes`), or any 5xx."""
    problems = [f"{counts['5xx']} responses were 5xx"] if counts.get("5xx") else []
    clan_ids = [clan["id"] for clan in plan["clans"]]
    totals = dict(
        session.execute(
            select(Posting.clan_id, func.sum(Posting.amount)).group_by(Posting.clan_id)
        ).all()
    )
    unbalanced = session.execute(
        select(Posting.entry_id).group_by(Posting.entry_id).having(func.sum(Posting.amount) != 0)
    ).all()
    problems += [f"{len(unbalanced)} journal entries do not sum to 0"] if unbalanced else []
    problems += _check_loot(session, plan, counts)
    problems += check_closes(session, plan, counts)
    problems += [
        f"clan {clan_id}: journal sums to {totals[clan_id]}, not 0"
        for clan_id in clan_ids
        if totals.get(clan_id, 0) != 0
    ]
    return problems


def _check_loot(session: Session, plan: dict, counts: dict[str, int]) -> list[str]:
    """Kills, drops and sales stored beyond the previous month's, against the POSTs."""
    problems = []
    for name, model in COUNTED.items():
        stored = dict(
            session.execute(select(model.clan_id, func.count()).group_by(model.clan_id)).all()
        )
        for clan in plan["clans"]:
            clan_id = clan["id"]
            run = stored.get(clan_id, 0) - clan.get("previous_month", {}).get("loot", 0)
            # A POST that timed out may or may not have been stored; nothing else may differ.
            posted = counts.get(f"{clan_id}:{name}:ok", 0)
            unknown = counts.get(f"{clan_id}:{name}:unknown", 0)
            if not posted <= run <= posted + unknown:
                problems.append(
                    f"clan {clan_id}: {run} rows for {posted} successful "
                    f"'{name}' POSTs" + (f" and {unknown} unanswered" if unknown else "")
                )
    return problems


def journal_entries(session: Session) -> int:
    return session.execute(select(func.count()).select_from(JournalEntry)).scalar_one()


def prepare_database(url: str) -> str:
    """Create the database if missing, wipe it and apply the migrations; the URL."""
    import psycopg  # heavy: only the benchmark talks to the server directly

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).fetchone():
            conn.execute(f'CREATE DATABASE "{parsed.database}"')
    from clanledger import create_app
    from clanledger.extensions import db
    from clanledger.production import upgrade_database

    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET}
    with create_app(config).app_context():
        db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.session.commit()
        db.engine.dispose()
    upgrade_database(config)
    return url


def run_load(
    session: Session,
    url: str,
    shape: tuple[int, int, int],
    workers: int,
    out: Path,
    hash_method: str = "scrypt",
    think: tuple[float, float] = (10, 30),
) -> LoadResult:
    """Seed ``shape`` (clans, members, seconds) through ``session``, serve ``url`` with
    gunicorn, play the members with Locust, then check the ledger."""
    clans, members, seconds = shape
    plan = seed_clans(session, clans, members, hash_method)
    start = time.monotonic()
    with production_server(url, workers, out / "gunicorn.log") as base:
        counts = run_locust(base, plan, clans * members, seconds, out, think)
        load = os.getloadavg()[0]
    elapsed = time.monotonic() - start
    session.expire_all()
    problems = check_ledger(session, plan, counts)
    closes = close_summary(plan, counts)
    return LoadResult(read_stats(out), counts, problems, closes, plan, elapsed, load)


def report(result: LoadResult) -> None:
    print(f"\n{'page':<18}{'requests':>9}{'failed':>8}{'req/s':>8}{'median':>9}{'p95':>9}  (ms)")
    for page in result.pages:
        print(
            f"{page.name:<18}{page.requests:>9}{page.failures:>8}{page.per_second:>8.1f}"
            f"{page.median_ms:>9.0f}{page.p95_ms:>9.0f}"
        )
    unanswered = sum(n for key, n in result.counts.items() if key.endswith(":unknown"))
    print(f"5xx responses: {result.counts.get('5xx', 0)}; POSTs left unanswered: {unanswered}")
    print(result.closes)
    print(f"load average {result.load_average:.1f} on {os.cpu_count()} CPUs at the end of the run")
    if result.problems:
        print("INCONSISTENT:\n  " + "\n  ".join(result.problems))
    else:
        print(
            "ledger check: every clan's journal sums to 0 and matches the successful POSTs; "
            "every close matches its POST and plan"
        )


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clans", type=int, default=50, help="clans (default 50)")
    parser.add_argument("--members", type=int, default=30, help="members per clan (default 30)")
    parser.add_argument("--duration", type=int, default=300, help="seconds (default 300)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG),
        help="PostgreSQL database to use (wiped first)",
    )
    parser.add_argument(
        "--think",
        default="10-30",
        help="seconds a member waits between two actions, min-max (default 10-30)",
    )
    parser.add_argument("--out", type=Path, help="folder for Locust's CSV and the server log")
    args = parser.parse_args(argv)
    args.database_url_given = args.database_url != DEFAULT_PG
    try:
        args.think = tuple(float(x) for x in args.think.split("-"))
        if len(args.think) != 2 or not 0 <= args.think[0] <= args.think[1] <= 600:
            raise ValueError
    except ValueError:
        parser.error("--think must be min-max seconds, e.g. 10-30")
    limits = {"clans": 1000, "members": 200, "duration": 3600, "workers": 64}
    for name, most in limits.items():
        if not 1 <= getattr(args, name) <= most:
            parser.error(f"--{name} must be between 1 and {most}")
    if make_url(args.database_url).get_backend_name() != "postgresql":
        parser.error("--database-url must be PostgreSQL (several workers share it)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    from clanledger import create_app  # heavy: the app only once the arguments are valid
    from clanledger.extensions import db

    try:
        url = prepare_database(args.database_url)
    except Exception as exc:  # the server is unreachable: say which and stop
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"bench_load: PostgreSQL at {args.database_url} not usable: {reason}")
        # `make bench` runs on machines without PostgreSQL: skipped there, an error when asked.
        return 2 if args.database_url_given else 0
    out = args.out or Path(tempfile.mkdtemp(prefix="clanledger-load-"))
    out.mkdir(parents=True, exist_ok=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    shape = (args.clans, args.members, args.duration)
    print(
        f"{args.clans} clans x {args.members} members for {args.duration} s, gunicorn "
        f"{args.workers} workers on PostgreSQL, {args.think[0]:g}-{args.think[1]:g} s between "
        f"a member's actions; Locust files in {out}"
    )
    with app.app_context():
        result = run_load(db.session, url, shape, args.workers, out, think=args.think)
        entries = journal_entries(db.session)
    report(result)
    print(f"{entries} journal entries written in {result.seconds:.0f} s")
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
