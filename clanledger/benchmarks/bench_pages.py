"""Page benchmark: server time of the dashboard, a statement, the close preview and the
history pages on a year of data, through the Flask test client and through gunicorn
(2 workers) on PostgreSQL.

The generated dataset: 1 clan x 100 members x 12 months x 3,000 sales (250 a month, 10
participants each, every sale posted through the domain core), the first 11 months closed
through the close service with most of their transfers confirmed. Prints median and p95 in
milliseconds (nothing is asserted) and the SQL queries each page makes.

Run: ``.venv/bin/python clanledger/benchmarks/bench_pages.py`` (``--small`` for a quick run,
``--help`` for the options). PostgreSQL comes from ``--database-url`` or
``BENCH_DATABASE_URL`` (default: the local server, database ``clanledger_bench``, created if
missing and wiped); without PostgreSQL the test-client part runs on SQLite and gunicorn is
skipped.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

from dateutil.relativedelta import relativedelta
from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from tqdm import tqdm
from werkzeug.security import generate_password_hash

from clanledger import create_app
from clanledger.domain.distribution import distribute_sale
from clanledger.domain.ledger import member, sale_postings
from clanledger.domain.money import Rate
from clanledger.extensions import db
from clanledger.models import (
    Attendance,
    Boss,
    Character,
    Clan,
    ClanRate,
    Drop,
    DropStatus,
    EntryKind,
    JournalEntry,
    Kill,
    Membership,
    Period,
    Posting,
    RateKind,
    Role,
    Sale,
    Transfer,
    TransferStatus,
    User,
)
from clanledger.services import close, transfers
from clanledger.services.audit import set_actor
from clanledger.services.errors import PermissionDenied
from clanledger.services.periods import period_for_day

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/clanledger_bench"
SECRET = "bench-secret-not-for-production-0123456789"
PASSWORD = "bench"
FEE, CUT = Rate(500), Rate(1000)


@dataclass(frozen=True)
class Dataset:
    clan_id: int
    leader_id: int
    member_id: int
    member_character_id: int
    last_period_id: int


def postgres_url(url: str) -> str | None:
    """``url`` if the server answers (its database created when missing), else None."""
    parsed = make_url(url)
    try:
        import psycopg

        admin = parsed.set(drivername="postgresql", database="postgres")
        with psycopg.connect(
            admin.render_as_string(hide_password=False), autocommit=True, connect_timeout=3
        ) as conn:
            found = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
            ).fetchone()
            if not found:
                conn.execute(f'CREATE DATABASE "{parsed.database}"')
    except Exception as exc:  # no server: say so and fall back
        print(f"PostgreSQL at {parsed.host}:{parsed.port} not usable ({exc.__class__.__name__})")
        return None
    return url


def generate(members: int, months: int, sales_total: int, seed: int = 7) -> Dataset:
    """Fill the empty database of the current app with the benchmark clan."""
    rng = random.Random(seed)
    db.drop_all()
    db.create_all()
    hashed = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1")
    users = [
        User(username=f"bench{i:03d}", display_name=f"玩家{i:03d}", password_hash=hashed)
        for i in range(members)
    ]
    db.session.add_all(users)
    db.session.flush()
    first_month = date.today().replace(day=1) - relativedelta(months=months - 1)
    clan = Clan(name="基準血盟", server="肯特01", invite_code="BENCH", carry_threshold=20)
    db.session.add(clan)
    db.session.flush()
    set_actor(db.session, users[0].id)
    roles = [Role.LEADER] + [Role.OFFICER] * 4 + [Role.MEMBER] * (members - 5)
    db.session.add_all(
        [
            Membership(clan_id=clan.id, user_id=u.id, role=role, status="active")
            for u, role in zip(users, roles, strict=True)
        ]
        + [
            ClanRate(
                clan_id=clan.id, kind=RateKind.EXCHANGE_FEE, bps=500, effective_from=first_month
            ),
            ClanRate(clan_id=clan.id, kind=RateKind.FUND_CUT, bps=1000, effective_from=first_month),
        ]
    )
    chars = [
        Character(clan_id=clan.id, user_id=u.id, name=f"角色{i:03d}") for i, u in enumerate(users)
    ]
    bosses = [Boss(clan_id=clan.id, name=f"首領{i}") for i in range(8)]
    db.session.add_all(chars + bosses)
    db.session.commit()
    per_month = sales_total // months
    period_ids = []
    for index in tqdm(range(months), desc="months", unit="month"):
        month = first_month + relativedelta(months=index)
        period = period_for_day(db.session, clan, month)
        period_ids.append(period.id)
        _month_of_sales(rng, clan, period.id, month, per_month, chars, bosses, users[1].id)
        if index < months - 1:
            _close_and_settle(rng, clan.id, period.id, users[1].id)
    return Dataset(clan.id, users[0].id, users[10].id, chars[10].id, period_ids[-1])


def _month_of_sales(
    rng: random.Random,
    clan: Clan,
    period_id: int,
    month: date,
    count: int,
    chars: list[Character],
    bosses: list[Boss],
    officer_id: int,
) -> None:
    days = ((month + relativedelta(months=1)) - month).days
    for _ in range(count):
        when = datetime(month.year, month.month, rng.randint(1, days), 12, tzinfo=UTC)
        when += timedelta(minutes=rng.randint(0, 600))
        group = rng.sample(chars, 10)
        weights = {c.id: Fraction(rng.choice((2, 2, 2, 1)), 2) for c in group}
        kill = Kill(
            clan_id=clan.id, boss_id=rng.choice(bosses).id, killed_at=when, created_by_id=officer_id
        )
        kill.attendance = [
            Attendance(clan_id=clan.id, character_id=cid, weight=w) for cid, w in weights.items()
        ]
        holder = group[0].id
        drop = Drop(
            clan_id=clan.id,
            kill=kill,
            name="武器",
            holder_character_id=holder,
            status=DropStatus.SOLD,
        )
        db.session.add_all([kill, drop])
        db.session.flush()
        received = rng.randint(200, 20_000)
        distribution = distribute_sale(
            received, CUT, {member(k): w for k, w in weights.items()}, drop.id
        )
        entry = JournalEntry(
            clan_id=clan.id,
            period_id=period_id,
            kind=EntryKind.SALE,
            occurred_at=when,
            memo=drop.name,
            source_type="drop",
            source_id=drop.id,
            idempotency_key=f"sale:{drop.id}",
            created_by_id=officer_id,
        )
        entry.postings = [
            Posting(
                clan_id=clan.id,
                period_id=period_id,
                account_kind=p.account.kind.value,
                character_id=p.account.id,
                amount=p.amount,
            )
            for p in sale_postings(member(holder), distribution)
        ]
        db.session.add(entry)
        db.session.flush()
        db.session.add(
            Sale(
                clan_id=clan.id,
                drop_id=drop.id,
                gross_price=received + received // 19,
                received=received,
                fee_bps=FEE.bps,
                fund_cut_bps=CUT.bps,
                sold_at=when,
                entry_id=entry.id,
                created_by_id=officer_id,
            )
        )
    db.session.commit()


def _close_and_settle(rng: random.Random, clan_id: int, period_id: int, officer_id: int) -> None:
    close.confirm_close(db.session, officer_id, clan_id, period_id)
    planned = db.session.execute(
        select(Transfer.id, Character.user_id)
        .outerjoin(Character, Character.id == Transfer.receiver_character_id)
        .where(Transfer.period_id == period_id, Transfer.status == TransferStatus.PLANNED)
    ).all()
    for transfer_id, receiver_user_id in planned:
        if rng.random() < 0.85:  # most are settled before the next close, some stay open
            # The receiver's player confirms; the fund's transfers an officer, with a reason
            # (not one the officer pays: another officer would, and it stays open here).
            try:
                transfers.confirm_received(
                    db.session,
                    receiver_user_id or officer_id,
                    clan_id,
                    transfer_id,
                    reason=None if receiver_user_id else "seen in the game's mail",
                )
            except PermissionDenied:
                db.session.rollback()


def refresh_statistics() -> None:
    """Let PostgreSQL's planner see the data just written (as autovacuum's analyze would on
    a running server): a freshly loaded table looks empty to it, and it then picks nested
    loops that cost 100x on the real sizes."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")


def existing() -> Dataset | None:
    """The dataset a previous run generated, if the database holds one."""
    clan = db.session.execute(select(Clan).where(Clan.invite_code == "BENCH")).scalar_one_or_none()
    if clan is None:
        return None
    users = db.session.execute(select(User.id).order_by(User.id)).scalars().all()
    chars = db.session.execute(select(Character.id).order_by(Character.id)).scalars().all()
    last = db.session.execute(
        select(Period.id).where(Period.clan_id == clan.id).order_by(Period.starts_on.desc())
    ).scalars()
    return Dataset(clan.id, users[0], users[10], chars[10], next(iter(last)))


def timings(run: Callable[[], int], requests: int) -> tuple[float, float, float]:
    """Median and p95 wall time and median CPU time of this process, in ms, of ``requests``
    calls after 3 warm-up calls. The CPU time is what a busy machine does not inflate (for the
    test client it is the app's own work; the database's is not in it)."""
    for _ in range(3):
        status = run()
        if status != 200:
            raise RuntimeError(f"a benchmarked page answered {status}")
    samples, cpu = [], []
    for _ in range(requests):
        start, start_cpu = time.perf_counter(), time.process_time()
        status = run()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        if status != 200:
            raise RuntimeError(f"a benchmarked page answered {status}")
    return (
        statistics.median(samples),
        statistics.quantiles(samples, n=20)[18],
        statistics.median(cpu),
    )


def pages(data: Dataset) -> dict[str, tuple[str, int]]:
    """Page name -> (URL, user id who requests it)."""
    base = f"/clans/{data.clan_id}"
    return {
        "dashboard": (f"{base}/", data.member_id),
        "statement": (f"{base}/statement", data.member_id),
        "close preview": (f"{base}/periods/{data.last_period_id}", data.leader_id),
        "clan history": (f"{base}/history", data.member_id),
        "year review": (f"{base}/history/year", data.member_id),
        "member history": (f"{base}/history/members/{data.member_character_id}", data.member_id),
    }


def measure_test_client(
    app, engine, data: Dataset, requests: int
) -> dict[str, tuple[float, float, float, int]]:
    results = {}
    for name, (url, user_id) in pages(data).items():
        client = signed_in_client(app, user_id)
        queries: list[str] = []

        def count(*args: object, queries: list[str] = queries) -> None:
            queries.append("q")

        def run(client=client, url=url) -> int:
            return client.get(url).status_code

        try:
            median, p95, cpu = timings(run, requests)
        except RuntimeError as exc:
            raise RuntimeError(f"{name} ({url}): {exc}") from exc
        event.listen(engine, "before_cursor_execute", count)
        run()
        event.remove(engine, "before_cursor_execute", count)
        results[name] = (median, p95, cpu, len(queries))
    return results


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure_gunicorn(app, url: str, data: Dataset, requests: int) -> dict[str, tuple[float, float]]:
    port = _free_port()
    env = os.environ | {"DATABASE_URL": url, "SECRET_KEY": SECRET}
    command = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}"]
    server = subprocess.Popen(
        [*command, "--log-level", "warning", "clanledger:create_app()"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_ready(port)
        results = {}
        for name, (path, user_id) in pages(data).items():
            cookie = _session_cookie(app, user_id)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

            def run(conn=conn, path=path, cookie=cookie) -> int:
                conn.request("GET", path, headers={"Cookie": f"session={cookie}"})
                response = conn.getresponse()
                response.read()
                return response.status

            results[name] = timings(run, requests)[:2]
            conn.close()
        return results
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def signed_in_client(app, user_id: int):
    """A test client signed in through the real login form (CSRF token included)."""
    with app.app_context():
        username = db.session.get(User, user_id).username
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    response = client.post(
        "/auth/login",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf_token": token.group(1) if token else "",
        },
    )
    if response.status_code != 302:
        raise RuntimeError(f"signing in as {username} failed ({response.status_code})")
    return client


def _session_cookie(app, user_id: int) -> str:
    """The session cookie of a real sign-in (same SECRET_KEY as the gunicorn workers)."""
    cookie = signed_in_client(app, user_id).get_cookie("session")
    if cookie is None:
        raise RuntimeError("the test client did not keep a session cookie")
    return cookie.value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="20 members, 3 months, 300 sales")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per page")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG),
        help="PostgreSQL database to fill (wiped first); SQLite is used if it is unreachable",
    )
    parser.add_argument("--no-gunicorn", action="store_true", help="only the test client")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the dataset a previous run left there"
    )
    args = parser.parse_args(argv)
    members, months, sales_total = (20, 3, 300) if args.small else (100, 12, 3000)

    url = postgres_url(args.database_url)
    engine_name = "PostgreSQL" if url else "SQLite"
    url = url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "RATELIMIT_ENABLED": False}
    )
    with app.app_context():
        start = time.perf_counter()
        reused = existing() if args.reuse else None
        data = reused or generate(members, months, sales_total)
        refresh_statistics()
        engine = db.engine
        db.session.remove()
    print(
        f"dataset: 1 clan x {members} members x {months} months x {sales_total} sales on "
        f"{engine_name}, "
        + ("reused" if reused else f"generated in {time.perf_counter() - start:.0f} s")
    )
    # Outside any app context: each request gets its own, as on a server (a shared one
    # would keep the signed-in user of the previous request in ``g``).
    client_results = measure_test_client(app, engine, data, args.requests)
    served = {}
    if url.startswith("postgresql") and not args.no_gunicorn:
        served = measure_gunicorn(app, url, data, args.requests)
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} CPUs while measuring")
    head = f"\n{'page':<15}{'test client median / p95':>26}{'CPU median':>12}{'queries':>9}"
    print(head + (f"{'gunicorn -w 2 median / p95':>30}" if served else "") + "   (ms)")
    for name, (median, p95, cpu, queries) in client_results.items():
        line = f"{name:<15}{median:>15.1f} / {p95:>8.1f}{cpu:>12.1f}{queries:>9}"
        if name in served:
            line += f"{served[name][0]:>19.1f} / {served[name][1]:>8.1f}"
        print(line)
    if not served:
        print("(gunicorn on PostgreSQL skipped)")


if __name__ == "__main__":
    main()
