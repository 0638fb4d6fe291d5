"""The auction pages through the test client: open from the item, bid from a phone, the
form status policy (400 invalid, 409 refused), settling when the page is viewed after the
end, cancelling, the bidding allowance, and the audit log in words."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from sqlalchemy import select
from test_loot_queries import counting

from clanledger.extensions import db
from clanledger.models import Auction, AuctionStatus, Drop, DropStatus, Role, Sale
from clanledger.models.types import utcnow
from clanledger.services import auctions, bosses, kills
from clanledger.services.drops import record_drop
from clanledger.web.auctions import time_left


@pytest.fixture
def setup(make_user, make_clan, add_member, make_character):
    leader, a, b = make_user(), make_user(), make_user()
    clan = make_clan(leader=leader)
    add_member(clan, a, Role.MEMBER)
    add_member(clan, b, Role.MEMBER)
    holder, ca, cb = (
        make_character(clan, u, name=n) for u, n in ((leader, "盟主"), (a, "阿明"), (b, "小美"))
    )
    boss = bosses.add_boss(db.session, leader.id, clan.id, "巴風特")
    kill = kills.record_kill(
        db.session,
        leader.id,
        clan.id,
        boss_id=boss.id,
        killed_at=utcnow() - timedelta(hours=1),
        participants={c.id: "1" for c in (holder, ca, cb)},
    )
    drop = record_drop(
        db.session,
        leader.id,
        clan.id,
        kill_id=kill.id,
        name="黑暗長劍",
        holder_character_id=holder.id,
    )
    return clan, leader, a, b, ca, cb, drop


def _local(clan, delta: timedelta) -> str:

    return (utcnow() + delta).astimezone(ZoneInfo(clan.timezone)).strftime("%Y-%m-%dT%H:%M")


def _open(client, clan, drop, **fields) -> int:
    data = {
        "start_price": "1000",
        "increment": "100",
        "ends_at": _local(clan, timedelta(hours=2)),
        "eligibility": "clan",
        "snipe_window_minutes": "5",
        "snipe_extension_minutes": "5",
    }
    data.update(fields)
    response = client.post(f"/clans/{clan.id}/drops/{drop.id}/auction", data=data)
    assert response.status_code == 302, response.text
    return db.session.execute(select(Auction.id).where(Auction.drop_id == drop.id)).scalar_one()


def test_open_bid_and_settle_on_view(setup, login, client):
    clan, leader, a, b, ca, cb, drop = setup
    login(leader)
    item = client.get(f"/clans/{clan.id}/drops/{drop.id}")
    assert "開放盟員競標" in item.text
    assert client.get(f"/clans/{clan.id}/drops/{drop.id}/auction").status_code == 200
    auction_id = _open(client, clan, drop)
    assert "內標中" in client.get(f"/clans/{clan.id}/drops/{drop.id}").text

    login(a)
    page = client.get(f"/clans/{clan.id}/auctions/{auction_id}")
    assert page.status_code == 200 and "至少 1,000 鑽" in page.text
    assert (
        client.post(
            f"/clans/{clan.id}/auctions/{auction_id}/bid",
            data={"character_id": ca.id, "amount": "1000"},
        ).status_code
        == 302
    )
    page = client.get(f"/clans/{clan.id}/auctions/{auction_id}")
    assert "你目前出價最高" in page.text

    login(b)
    low = client.post(
        f"/clans/{clan.id}/auctions/{auction_id}/bid",
        data={"character_id": cb.id, "amount": "1050"},
    )
    assert low.status_code == 409 and "出價至少要 1,100 鑽" in low.text
    bad = client.post(
        f"/clans/{clan.id}/auctions/{auction_id}/bid", data={"character_id": cb.id, "amount": "abc"}
    )
    assert bad.status_code == 400
    foreign = client.post(
        f"/clans/{clan.id}/auctions/{auction_id}/bid",
        data={"character_id": ca.id, "amount": "5000"},
    )
    assert foreign.status_code == 400  # not one of b's characters: not a choice
    assert (
        client.post(
            f"/clans/{clan.id}/auctions/{auction_id}/bid",
            data={"character_id": cb.id, "amount": "1300"},
        ).status_code
        == 302
    )
    login(a)
    assert "有人出價比你高" in client.get(f"/clans/{clan.id}/auctions/{auction_id}").text

    auction = db.session.get(Auction, auction_id)
    auction.ends_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    page = client.get(f"/clans/{clan.id}/auctions/{auction_id}")
    assert "小美 以 1,300 鑽得標" in page.text and "由其他盟員得標" in page.text
    db.session.expire_all()
    assert db.session.get(Drop, drop.id).status == DropStatus.BOUGHT
    sale = db.session.execute(select(Sale).where(Sale.drop_id == drop.id)).scalar_one()
    assert (sale.gross_price, sale.buyer_character_id) == (1300, cb.id)
    late = client.post(
        f"/clans/{clan.id}/auctions/{auction_id}/bid",
        data={"character_id": ca.id, "amount": "9000"},
    )
    assert late.status_code == 409 and "這場競標已結束" in late.text

    login(leader)
    audit = client.get(f"/clans/{clan.id}/audit")
    assert "出價" in audit.text and "已得標" in audit.text and "起標價" in audit.text
    assert "5 分鐘" in audit.text  # the late-bid window, not 300 seconds
    for column in ("start_price", "snipe_window_s", "winning_bid_id", "placed_at", "no_bids"):
        assert column not in audit.text


def test_open_form_refuses_bad_terms(setup, login, client):
    clan, leader, _a, b, _ca, _cb, drop = setup
    login(leader)
    url = f"/clans/{clan.id}/drops/{drop.id}/auction"
    past = client.post(
        url,
        data={
            "start_price": "1000",
            "increment": "100",
            "eligibility": "clan",
            "ends_at": _local(clan, timedelta(minutes=-5)),
            "snipe_window_minutes": "5",
            "snipe_extension_minutes": "5",
        },
    )
    assert past.status_code == 409 and "至少要在 5 分鐘之後" in past.text
    zero = client.post(
        url,
        data={
            "start_price": "0",
            "increment": "100",
            "eligibility": "clan",
            "ends_at": _local(clan, timedelta(hours=1)),
            "snipe_window_minutes": "5",
            "snipe_extension_minutes": "5",
        },
    )
    assert zero.status_code == 400
    odd = client.post(
        url,
        data={
            "start_price": "10",
            "increment": "1",
            "eligibility": "guild",
            "ends_at": _local(clan, timedelta(hours=1)),
            "snipe_window_minutes": "90",
            "snipe_extension_minutes": "5",
        },
    )
    assert odd.status_code == 400
    login(b)  # neither the holder nor an officer
    denied = client.post(
        url,
        data={
            "start_price": "10",
            "increment": "1",
            "eligibility": "clan",
            "ends_at": _local(clan, timedelta(hours=1)),
            "snipe_window_minutes": "5",
            "snipe_extension_minutes": "5",
        },
    )
    assert denied.status_code == 403
    assert db.session.get(Drop, drop.id).status == DropStatus.HELD


def test_cancel_and_the_allowance(setup, login, client):
    clan, leader, a, _b, ca, _cb, drop = setup
    login(leader)
    auction_id = _open(client, clan, drop)
    assert (
        client.post(f"/clans/{clan.id}/auctions/credit", data={"credit": "500"}).status_code == 302
    )
    login(a)
    over = client.post(
        f"/clans/{clan.id}/auctions/{auction_id}/bid",
        data={"character_id": ca.id, "amount": "1000"},
    )
    assert over.status_code == 409 and "你的出價上限是 500 鑽" in over.text
    assert (
        client.post(
            f"/clans/{clan.id}/auctions/{auction_id}/cancel", data={"reason": "x"}
        ).status_code
        == 403
    )
    login(leader)
    assert client.post(f"/clans/{clan.id}/auctions/credit", data={"credit": ""}).status_code == 302
    assert (
        client.post(
            f"/clans/{clan.id}/auctions/{auction_id}/cancel", data={"reason": ""}
        ).status_code
        == 400
    )
    done = client.post(
        f"/clans/{clan.id}/auctions/{auction_id}/cancel", data={"reason": "留給坦克"}
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Auction, auction_id).status == AuctionStatus.CANCELLED
    listing = client.get(f"/clans/{clan.id}/auctions")
    active = re.search(r'class="nav-link[^"]* active"[^>]*>([^<]+)<', listing.text)
    assert active and active.group(1) == "物品"  # the auctions sit under the items
    assert listing.status_code == 200 and "已取消" in listing.text and "沒有上限" in listing.text


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [
        (30, "不到一分鐘", "less than a minute"),
        (3660, "1 小時 1 分鐘", "1 hour 1 minute"),
        (86399, "23 小時 59 分鐘", "23 hours 59 minutes"),  # rounded down, never up
        (129_600, "1 天 12 小時", "1 day 12 hours"),
        (1_209_600, "14 天", "14 days"),
    ],
)
def test_time_left_reads_in_two_units(app, seconds, zh, en):
    with app.test_request_context():
        for locale, expected in (("zh_Hant", zh), ("en", en)):
            with force_locale(locale):
                assert time_left(timedelta(seconds=seconds)) == expected


def test_the_auction_page_speaks_english(setup, make_user, login, client):
    clan, leader, a, _b, ca, _cb, drop = setup
    login(leader)
    auction_id = _open(client, clan, drop, sealed="y")
    a.locale = "en"
    db.session.commit()
    login(a)
    page = client.get(f"/clans/{clan.id}/auctions/{auction_id}")
    assert "Place a bid" in page.text and "At least 1,000 diamonds." in page.text
    assert "sealed" in page.text
    client.post(
        f"/clans/{clan.id}/auctions/{auction_id}/bid",
        data={"character_id": ca.id, "amount": "1000"},
    )
    page = client.get(f"/clans/{clan.id}/auctions/{auction_id}")
    assert "Your sealed bid is in." in page.text and "Your best bid: 1,000." in page.text


def _auction_with_bids(clan, leader, drop, bidders) -> None:
    auction = auctions.open_auction(
        db.session,
        leader.id,
        clan.id,
        drop.id,
        start_price=100,
        increment=10,
        ends_at=utcnow() + timedelta(hours=1),
    )
    for i, (user, character) in enumerate(bidders):
        auctions.place_bid(
            db.session, user.id, clan.id, auction.id, character_id=character.id, amount=100 + 10 * i
        )


def test_the_auction_list_runs_the_same_queries_for_more_auctions(setup, login, client):
    clan, leader, a, b, ca, cb, drop = setup
    login(leader)
    _auction_with_bids(clan, leader, drop, [(a, ca), (b, cb)])
    client.get(f"/clans/{clan.id}/auctions")
    with counting() as few:
        assert client.get(f"/clans/{clan.id}/auctions").status_code == 200
    for i in range(4):
        more = record_drop(
            db.session,
            leader.id,
            clan.id,
            kill_id=drop.kill_id,
            name=f"劍{i}",
            holder_character_id=drop.holder_character_id,
        )
        _auction_with_bids(clan, leader, more, [(a, ca), (b, cb), (a, ca)])
    client.get(f"/clans/{clan.id}/auctions")  # as above: the session's rows loaded once
    with counting() as many:
        assert client.get(f"/clans/{clan.id}/auctions").status_code == 200
    assert len(many) == len(few)
