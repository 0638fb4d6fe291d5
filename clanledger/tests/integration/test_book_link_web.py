"""The clan link page: turning it on and off, what it shows, and bad input as a 4xx."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from clanledger.extensions import db
from clanledger.models.book import BookAccount, BookTransaction
from clanledger.services import bosses, kills, sales
from clanledger.services.book.accounts import create_account, ensure_book
from clanledger.services.drops import list_drop, record_drop


@pytest.fixture
def sold(make_user, make_clan, add_member, make_character):
    """A clan where "me" held an item sold for 1000 and shared it 1:1 with another."""
    leader, me = make_user("leader"), make_user("me", locale="zh_Hant")
    clan = make_clan(leader=leader, name="狂戰天下")
    add_member(clan, me)
    mine = make_character(clan, me, "夜風")
    theirs = make_character(clan, leader, "盟主")
    boss = bosses.add_boss(db.session, leader.id, clan.id, "安塔瑞斯")
    when = datetime(2026, 3, 3, 12, tzinfo=UTC)
    kill = kills.record_kill(
        db.session,
        leader.id,
        clan.id,
        boss_id=boss.id,
        killed_at=when,
        participants={mine.id: "1", theirs.id: "1"},
        now=when,
    )
    drop = record_drop(
        db.session, leader.id, clan.id, kill_id=kill.id, name="屠龍", holder_character_id=mine.id
    )
    list_drop(db.session, leader.id, clan.id, drop.id, asking_price=1100, now=when)
    sales.record_sale(db.session, leader.id, clan.id, drop.id, received=1000, now=when)
    return {"clan": clan, "me": me, "leader": leader}


def _mirrored(user_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(BookTransaction)
        .where(BookTransaction.user_id == user_id, BookTransaction.kind == "clan")
    )


def test_turn_on_see_the_clan_then_turn_off(sold, client, login):
    login(sold["me"])
    page = client.get("/book/clan-link")
    assert page.status_code == 200
    assert "血盟連動" in page.text and "狂戰天下" in page.text
    assert _mirrored(sold["me"].id) == 0
    done = client.post("/book/clan-link", data={"account": "0"})
    assert done.status_code == 302 and _mirrored(sold["me"].id) == 1
    page = client.get("/book/clan-link")
    # Held 1000, shared 500 each, 10 % to the fund: claim -1000 + 450 = -550.
    assert "-550" in page.text and "✓" in page.text
    home = client.get("/book")
    assert 'id="home-clan-link"' in home.text and "-550" in home.text
    off = client.post("/book/clan-link/off")
    assert off.status_code == 302 and _mirrored(sold["me"].id) == 0
    assert 'id="home-clan-link-off"' in client.get("/book").text


def test_the_leader_sees_only_their_own_claim(sold, client, login):
    login(sold["me"])
    client.post("/book/clan-link", data={"account": "0"})
    login(sold["leader"])
    client.post("/book/clan-link", data={"account": "0"})
    page = client.get("/book/clan-link")
    assert "450" in page.text and "-550" not in page.text  # their share, not my claim


@pytest.mark.parametrize(
    "value",
    ["", "abc", "-1", "1e3", "９", "99999999", "9" * 40, "1.5", "null", "<script>", "cash"],
)
def test_bad_account_choices_are_a_400_with_a_message(sold, client, login, value):
    login(sold["me"])
    client.get("/book/clan-link")
    answer = client.post("/book/clan-link", data={"account": value})
    assert answer.status_code == 400
    assert 'id="link-errors"' in answer.text
    assert _mirrored(sold["me"].id) == 0


@pytest.mark.parametrize("which", ["cash", "stranger", "claim"])
def test_an_account_that_is_not_an_own_diamonds_account_is_refused(
    sold, client, login, make_user, which
):
    me = sold["me"]
    login(me)
    client.post("/book/clan-link", data={"account": "0"})
    stranger = make_user()
    ensure_book(db.session, stranger.id)
    foreign = create_account(db.session, stranger.id, "鑽", "diamonds", "DIA")
    accounts = {
        a.type.value if not a.read_only else "claim": a.id
        for a in db.session.scalars(select(BookAccount).where(BookAccount.user_id == me.id))
    }
    target = {"cash": accounts["cash"], "stranger": foreign.id, "claim": accounts["claim"]}
    answer = client.post("/book/clan-link", data={"account": str(target[which])})
    assert answer.status_code == 400
    assert _mirrored(me.id) == 1


def test_english_page(sold, client, login):
    me = sold["me"]
    me.locale = "en"
    db.session.commit()
    login(me)
    page = client.get("/book/clan-link")
    assert "Clan link" in page.text and "Turn the clan link on" in page.text
