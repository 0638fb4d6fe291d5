"""The audit log's text search: who made a change, what kind of record, which item."""

from __future__ import annotations

import pytest

from clanledger.extensions import db
from clanledger.models import Role
from clanledger.models.types import utcnow
from clanledger.services import bosses, drops, history, kills


@pytest.fixture
def logged(make_user, make_clan, add_member, make_character):
    leader = make_user("leader", display_name="阿明")
    officer = make_user("officer", display_name="Kate")
    clan = make_clan(leader=leader)
    add_member(clan, officer, Role.OFFICER)
    holder = make_character(clan, officer, "夜風")
    boss = bosses.add_boss(db.session, leader.id, clan.id, "Orfen")
    kill = kills.record_kill(
        db.session, leader.id, clan.id, boss_id=boss.id, killed_at=utcnow(),
        participants={holder.id: 1},
    )  # fmt: skip
    ring = drops.record_drop(
        db.session, officer.id, clan.id, kill_id=kill.id, name="Ring of 50%",
        holder_character_id=holder.id,
    )  # fmt: skip
    drops.store_drop(db.session, officer.id, clan.id, ring.id)
    return clan, leader, officer, ring


def _found(clan, officer, text, kinds=()):
    page = history.audit_page(
        db.session, officer.id, clan.id, search=history.AuditSearch(text, kinds)
    )
    return page.total, {(e.row.entity_type, e.row.action) for e in page.entries}


def test_an_item_name_finds_its_rows(logged):
    clan, _leader, officer, ring = logged
    total, found = _found(clan, officer, "ring of")
    assert total == 2 and found == {("Drop", "create"), ("Drop", "update")}
    assert _found(clan, officer, "50%")[0] == 2  # % is a plain character
    assert _found(clan, officer, "5_%")[0] == 0
    assert _found(clan, officer, f"#{ring.id}")[1] >= {("Drop", "create")}


def test_a_name_of_who_or_a_kind_of_record_finds_its_rows(logged):
    clan, _leader, officer, _ring = logged
    by_officer = history.audit_page(
        db.session, officer.id, clan.id, search=history.AuditSearch("kat")
    )
    assert by_officer.total >= 2
    assert {e.actor.display_name for e in by_officer.entries} == {"Kate"}
    assert _found(clan, officer, "夜風")[1] >= {("Character", "create")}
    assert _found(clan, officer, "orf")[1] >= {("Boss", "create")}
    kinds_only = _found(clan, officer, "無此字", kinds=("Kill",))
    assert kinds_only == (1, {("Kill", "create")})
    assert _found(clan, officer, "無此字") == (0, set())


def test_the_page_searches_in_the_readers_language(logged, client, login):
    clan, _leader, officer, _ring = logged
    login(officer)
    html = client.get(f"/clans/{clan.id}/audit", query_string={"q": "擊殺"}).get_data(
        as_text=True
    )  # 擊殺 names the Kill records in Traditional Chinese
    assert 'id="audit-count"' in html and "擊殺 #" in html and "物品 #" not in html
    empty = client.get(f"/clans/{clan.id}/audit", query_string={"q": "nobody at all"})
    assert empty.status_code == 200
    assert "0 筆變更" in empty.text and "沒有符合篩選條件的變更" in empty.text
