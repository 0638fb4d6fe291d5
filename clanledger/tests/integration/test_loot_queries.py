"""The loot pages run a fixed number of SQL queries, however much data there is (no N+1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from clanledger.extensions import db
from clanledger.models.types import utcnow
from clanledger.services import bosses, drops, kills, sales


@contextmanager
def counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def add_raid(leader_id: int, clan_id: int, boss_id: int, chars: list[int]) -> None:
    """One kill with every kind of line: a sale, an internal purchase, a corrected sale,
    an item still listed and one held."""
    kill = kills.record_kill(
        db.session,
        leader_id,
        clan_id,
        boss_id=boss_id,
        killed_at=utcnow(),
        participants={c: "1" for c in chars},
    )
    made = [
        drops.record_drop(
            db.session,
            leader_id,
            clan_id,
            kill_id=kill.id,
            name=f"item{i}",
            holder_character_id=chars[i % len(chars)],
        ).id
        for i in range(5)
    ]
    for drop_id in made[:3]:
        drops.list_drop(db.session, leader_id, clan_id, drop_id, 1000)
    sales.record_sale(db.session, leader_id, clan_id, made[0], received=950)
    sales.record_sale(db.session, leader_id, clan_id, made[1], received=950)
    sales.correct_sale(db.session, leader_id, clan_id, made[1], received=940, reason="typo")
    sales.record_internal_purchase(
        db.session, leader_id, clan_id, made[3], buyer_character_id=chars[1], price=300
    )


PAGES = [
    "/",
    "/kills",
    "/drops?status=all",
    "/drops",
    "/statement",
    "/statements",
    "/statement/{char}",
    "/statement/{char}/explain",
    "/kills/{kill}",
    "/drops/{drop}",
]


def test_page_queries_do_not_grow_with_the_data(
    make_user, make_clan, make_character, login, client
):
    leader = make_user()
    clan = make_clan(leader=leader)
    chars = [make_character(clan, leader if i == 0 else None).id for i in range(6)]
    boss = bosses.add_boss(db.session, leader.id, clan.id, "Zaken").id
    add_raid(leader.id, clan.id, boss, chars)
    login(leader)
    ids = {"char": chars[0], "kill": 1, "drop": 1}

    def counts() -> dict[str, int]:
        found = {}
        for page in PAGES:
            url = f"/clans/{clan.id}" + page.format(**ids)
            client.get(url)  # warm caches (Babel, templates)
            with counting() as statements:
                assert client.get(url).status_code == 200, url
            found[page] = len(statements)
        return found

    small = counts()
    more = [make_character(clan, None).id for _ in range(10)]
    for _ in range(3):
        add_raid(leader.id, clan.id, boss, chars + more)
    large = counts()
    assert large == small, {p: (small[p], large[p]) for p in PAGES if small[p] != large[p]}
    assert max(large.values()) <= 26, large  # the dashboard: 25, and 1 for the set-up checklist


@pytest.mark.parametrize("page", ["/", "/statement"])
def test_pages_with_nothing_yet(page, make_user, make_clan, login, client):
    leader = make_user()
    clan = make_clan(leader=leader)
    login(leader)
    assert client.get(f"/clans/{clan.id}{page}").status_code == 200
