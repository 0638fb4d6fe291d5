"""The items list pages, filters and counts: no item is ever silently left out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from clanledger.extensions import db
from clanledger.models import Drop, Role
from clanledger.models.types import utcnow
from clanledger.services import bosses, drops, kills


@pytest.fixture
def loot(make_user, make_clan, add_member, make_character):
    leader, member = make_user("leader"), make_user("member")
    clan = make_clan(leader=leader)
    add_member(clan, member, Role.MEMBER)
    mine, theirs = make_character(clan, member, "Member"), make_character(clan, leader, "Leader")
    orfen = bosses.add_boss(db.session, leader.id, clan.id, "Orfen")
    zaken = bosses.add_boss(db.session, leader.id, clan.id, "Zaken")
    ids = {}
    for boss in (orfen, zaken):
        ids[boss.name] = kills.record_kill(
            db.session, leader.id, clan.id, boss_id=boss.id, killed_at=utcnow(),
            participants={mine.id: 1, theirs.id: 1},
        ).id  # fmt: skip
    return clan, leader, member, mine, theirs, orfen, zaken, ids


def _record(clan, leader, kill_id, name, holder, age_minutes):
    drop = drops.record_drop(
        db.session, leader.id, clan.id, kill_id=kill_id, name=name, holder_character_id=holder.id
    )
    at = utcnow() - timedelta(minutes=age_minutes)
    db.session.execute(update(Drop).where(Drop.id == drop.id).values(created_at=at))
    db.session.commit()
    return drop


def test_250_items_the_newest_is_on_the_first_page(loot, login, client):
    clan, leader, _, mine, _, _, _, ids = loot
    for k in range(250):
        _record(clan, leader, ids["Orfen"], f"Item {k:03d}", mine, age_minutes=1000 - k)
    login(leader)
    first = client.get(f"/clans/{clan.id}/drops?status=all").get_data(as_text=True)
    assert "Item 249" in first and "Item 200" in first and "Item 199" not in first
    assert "250 items" in first or "250 件物品" in first
    last = client.get(f"/clans/{clan.id}/drops?status=all&page=5").get_data(as_text=True)
    assert "Item 000" in last and "Item 049" in last and "Item 050" not in last
    # Page numbers past the end show the last page; nothing is silently cut.
    assert "Item 000" in client.get(f"/clans/{clan.id}/drops?status=all&page=99").text


def test_filters_by_holder_boss_mine_and_name(loot, login, client):
    clan, leader, member, mine, theirs, orfen, _, ids = loot
    _record(clan, leader, ids["Orfen"], "Ring of Orfen", mine, 5)
    _record(clan, leader, ids["Zaken"], "Zaken's Earring", theirs, 4)
    _record(clan, leader, ids["Zaken"], "100%_Scroll", mine, 3)
    where = drops.DropFilter
    page = lambda w: [d.name for d in drops.drop_page(db.session, member.id, clan.id, w).rows]  # noqa: E731
    assert page(where()) == ["100%_Scroll", "Zaken's Earring", "Ring of Orfen"]
    assert page(where(holder_character_id=theirs.id)) == ["Zaken's Earring"]
    assert page(where(boss_id=orfen.id)) == ["Ring of Orfen"]
    assert page(where(mine=True)) == ["100%_Scroll", "Ring of Orfen"]
    assert page(where(search="ring")) == ["Zaken's Earring", "Ring of Orfen"]
    assert page(where(search="%_")) == ["100%_Scroll"]  # LIKE wildcards are plain text
    login(member)
    html = client.get(f"/clans/{clan.id}/drops?status=all&mine=1&q=scroll").get_data(as_text=True)
    assert "100%_Scroll" in html and "Ring of Orfen" not in html


def test_amounts_to_check_link_to_the_flagged_sales(loot, login, client):
    from clanledger.services import sales

    clan, leader, _, mine, _, _, _, ids = loot
    exact = _record(clan, leader, ids["Orfen"], "Exact Ring", mine, 5)
    short = _record(clan, leader, ids["Orfen"], "Short Ring", mine, 4)
    for drop, received in ((exact, 950), (short, 900)):
        drops.list_drop(db.session, leader.id, clan.id, drop.id, 1000)
        sales.record_sale(db.session, leader.id, clan.id, drop.id, received=received)
    login(leader)
    board = client.get(f"/clans/{clan.id}/").get_data(as_text=True)
    assert f"/clans/{clan.id}/drops?status=check" in board
    listed = client.get(f"/clans/{clan.id}/drops?status=check").get_data(as_text=True)
    assert "Short Ring" in listed and "Exact Ring" not in listed


def test_the_drop_form_comes_first_with_suggestions_and_the_recorders_holder(loot, login, client):
    clan, leader, member, mine, theirs, _, _, ids = loot
    _record(clan, leader, ids["Orfen"], "Ring of Orfen", mine, 9)
    _record(clan, leader, ids["Orfen"], "Ring of Orfen", theirs, 8)
    _record(clan, leader, ids["Orfen"], "Dark Scroll", theirs, 7)
    login(member)
    html = client.get(f"/clans/{clan.id}/kills/{ids['Zaken']}").get_data(as_text=True)
    assert html.index('id="record-drop"') < html.index('id="kill-drops"')
    assert html.index('id="record-drop"') < html.index('id="roll-call"')
    names = html.split('<datalist id="item-names">', 1)[1].split("</datalist>", 1)[0]
    assert names.index("Dark Scroll") < names.index("Ring of Orfen")  # in the reader's order
    # Beyond the limit, the most recorded names are the ones suggested.
    assert drops.item_names(db.session, member.id, clan.id, limit=1) == ["Ring of Orfen"]
    holder = html.split('name="holder_character_id"', 1)[1].split("</select>", 1)[0]
    assert f'selected value="{mine.id}"' in holder or f'value="{mine.id}" selected' in holder
    assert 'data-copy="#checkin-code"' in html and 'data-copy="#checkin-link"' in html


def test_the_kills_list_counts_every_kill_and_pages_them(loot, login, client):
    clan, leader, _, mine, _, orfen, _, _ = loot
    for _k in range(33):  # 2 from the fixture + 33 = 35: two pages of 30
        kills.record_kill(
            db.session, leader.id, clan.id, boss_id=orfen.id, killed_at=utcnow(),
            participants={mine.id: 1},
        )  # fmt: skip
    login(leader)
    first = client.get(f"/clans/{clan.id}/kills").get_data(as_text=True)
    assert ("35 kills" in first or "35 次擊殺" in first) and "page=2" in first
    last = client.get(f"/clans/{clan.id}/kills?page=999").get_data(as_text=True)
    assert last.count('class="list-group-item list-group-item-action"') == 5
