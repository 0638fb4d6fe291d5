"""SQL queries per page stay the same however much data there is (no N+1).

Each page is requested on a small month, then again after more members, kills, sales and a
closed earlier period were added; the number of queries must not move, and is pinned.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event

from clanledger.extensions import db
from clanledger.models import Clan, Role
from clanledger.services import bosses, close, kills, sales, transfers
from clanledger.services.drops import list_drop, record_drop
from clanledger.services.periods import period_for_day

# Queries per page, pinned: exactly for the close pages, at most for the loot pages (their
# owners may trade a query for another). A change here must be a deliberate one.
EXACT = {"close": 15, "transfers": 10, "print": 9}  # close: + paid before a reopen, carried in,
# wallets; transfers: + how many match and the months to filter by
AT_MOST = {"dashboard": 20, "statement": 10}
_names = itertools.count(1)


@contextmanager
def counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE is no query
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def clan_world(make_user, make_clan, add_member, make_character):
    leader = make_user()
    clan = make_clan(leader=leader)
    clan_id, leader_id = clan.id, leader.id
    chars = [make_character(clan, leader).id]
    boss = bosses.add_boss(db.session, leader.id, clan.id, "死亡騎士").id
    world = {"clan": clan, "leader": leader, "grow": None}

    def grow(members: int, sales_count: int, month: int) -> None:
        clan = db.session.get(Clan, clan_id)
        for _ in range(members):
            user = make_user()
            add_member(clan, user, Role.MEMBER)
            chars.append(make_character(clan, user).id)
        for i in range(sales_count):
            when = datetime(2026, month, 1 + i % 27, 12, tzinfo=UTC)
            group = chars[i % len(chars) :] + chars[: i % len(chars)]
            kill = kills.record_kill(
                db.session,
                leader_id,
                clan_id,
                boss_id=boss,
                killed_at=when,
                participants=dict.fromkeys(group[:5], "1"),
                now=when,
            )
            drop = record_drop(
                db.session,
                leader_id,
                clan_id,
                kill_id=kill.id,
                name=f"item{next(_names)}",
                holder_character_id=group[1 % len(group)],
            ).id
            list_drop(db.session, leader_id, clan_id, drop, asking_price=500 + i, now=when)
            sales.record_sale(
                db.session, leader_id, clan_id, drop, received=450 + i, sold_at=when, now=when
            )

    world["grow"] = grow
    return world


def page_counts(client, clan_id: int, period_id: int) -> dict[str, int]:
    urls = {
        "dashboard": f"/clans/{clan_id}/",
        "statement": f"/clans/{clan_id}/statement?period={period_id}",
        "close": f"/clans/{clan_id}/periods/{period_id}",
        "transfers": f"/clans/{clan_id}/transfers?show=all",
        "print": f"/clans/{clan_id}/export/statement/print?period={period_id}",
    }
    counts = {}
    for name, url in urls.items():
        client.get(url)  # warm caches (locale, templates) outside the count
        db.session.remove()
        with counted() as statements:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[name] = len(statements)
    return counts


def test_queries_per_page_do_not_grow_with_the_data(client, login, clan_world):
    clan, leader = clan_world["clan"], clan_world["leader"]
    login(leader)
    clan_id, leader_id = clan.id, leader.id
    clan_world["grow"](members=4, sales_count=3, month=4)
    april = period_for_day(db.session, clan, date(2026, 4, 1)).id
    db.session.commit()
    small = page_counts(client, clan_id, april)

    clan_world["grow"](members=8, sales_count=12, month=4)
    # An earlier month, closed, with transfers: more periods, openings and transfers.
    clan_world["grow"](members=0, sales_count=6, month=3)
    march = period_for_day(db.session, db.session.get(Clan, clan_id), date(2026, 3, 1)).id
    db.session.commit()
    close.confirm_close(db.session, leader_id, clan_id, march)
    first = transfers.list_transfers(db.session, leader_id, clan_id)[0].transfer
    transfers.confirm_received(db.session, leader_id, clan_id, first.id)
    large = page_counts(client, clan_id, april)

    assert large == small, f"queries grew with the data: {small} -> {large}"
    assert {page: large[page] for page in EXACT} == EXACT
    for page, most in AT_MOST.items():
        assert large[page] <= most, f"{page}: {large[page]} queries, at most {most} expected"
