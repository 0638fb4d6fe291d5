"""Internal auctions through the services: opening, bidding (increments, eligibility, the
bidding limit, anti-sniping), the result booked as an internal purchase, no bids, ties of
sealed bids, cancelling, closed months, the audit trail and ``settle-auctions``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from clanledger.domain.auction import Eligibility
from clanledger.extensions import db
from clanledger.models import (
    Auction,
    AuctionStatus,
    AuditLog,
    Drop,
    DropStatus,
    PeriodStatus,
    Posting,
    Role,
    Sale,
    SaleKind,
)
from clanledger.services import auction_board, auctions, bosses, kills, sales
from clanledger.services.drops import record_drop
from clanledger.services.errors import Conflict, PermissionDenied, ValidationError
from clanledger.services.periods import period_for_day

T0 = datetime(2026, 3, 5, 20, 0, tzinfo=UTC)
ENDS = T0 + timedelta(hours=2)


@pytest.fixture
def raid(app, make_user, make_clan, add_member, make_character):
    """A clan: the leader (holder of the item), an officer, and members A, B (at the kill)
    and C (not at the kill), each with one character."""
    leader, officer, a, b, c = (make_user() for _ in range(5))
    clan = make_clan(leader=leader)
    add_member(clan, officer, Role.OFFICER)
    for user in (a, b, c):
        add_member(clan, user)
    chars = {
        name: make_character(clan, user, name=name)
        for name, user in (
            ("盟主", leader),
            ("幹部", officer),
            ("阿明", a),
            ("小美", b),
            ("路人", c),
        )
    }
    boss = bosses.add_boss(db.session, leader.id, clan.id, "巴風特")
    kill = kills.record_kill(
        db.session,
        leader.id,
        clan.id,
        boss_id=boss.id,
        killed_at=T0 - timedelta(hours=1),
        participants={chars[n].id: "1" for n in ("盟主", "幹部", "阿明", "小美")},
        now=T0,
    )
    drop = record_drop(
        db.session,
        leader.id,
        clan.id,
        kill_id=kill.id,
        name="黑暗長劍",
        holder_character_id=chars["盟主"].id,
        now=T0,
    )
    return SimpleNamespace(
        clan=clan, leader=leader, officer=officer, a=a, b=b, c=c, chars=chars, drop=drop, kill=kill
    )


def _open(raid, **terms):
    terms.setdefault("start_price", 1000)
    terms.setdefault("increment", 100)
    terms.setdefault("ends_at", ENDS)
    return auctions.open_auction(
        db.session, raid.leader.id, raid.clan.id, raid.drop.id, now=T0, **terms
    )


def _bid(raid, user, name, amount, at=T0 + timedelta(minutes=10), auction=None):
    auction_id = auction.id if auction else db.session.execute(select(Auction.id)).scalar_one()
    return auctions.place_bid(
        db.session,
        user.id,
        raid.clan.id,
        auction_id,
        character_id=raid.chars[name].id,
        amount=amount,
        now=at,
    )


def _balance(raid, name):
    return auctions.balance_of(db.session, raid.clan.id, raid.chars[name].id)


def test_the_highest_bid_buys_the_item_and_the_price_is_shared_out(raid):
    auction = _open(raid)
    assert db.session.get(Drop, raid.drop.id).status == DropStatus.AUCTION
    _bid(raid, raid.a, "阿明", 1000)
    _bid(raid, raid.b, "小美", 1100)
    with pytest.raises(ValidationError) as low:
        _bid(raid, raid.a, "阿明", 1150)
    assert low.value.params == {"minimum": 1200}
    _bid(raid, raid.a, "阿明", 1500)
    assert (
        auctions.settle_auction(
            db.session, raid.clan.id, auction.id, now=ENDS - timedelta(seconds=1)
        )
        is False
    )
    assert auctions.settle_auction(db.session, raid.clan.id, auction.id, now=ENDS) is True

    db.session.refresh(auction)
    assert auction.status == AuctionStatus.WON
    sale = db.session.execute(select(Sale).where(Sale.drop_id == raid.drop.id)).scalar_one()
    assert (sale.kind, sale.gross_price, sale.received, sale.fee_bps) == (
        SaleKind.INTERNAL,
        1500,
        1500,
        0,
    )
    assert sale.buyer_character_id == raid.chars["阿明"].id
    assert auction.sale_id == sale.id
    assert db.session.get(Drop, raid.drop.id).status == DropStatus.BOUGHT
    # 10 % to the fund (150), 1350 in four equal shares of 337 or 338; the buyer pays 1500.
    total = db.session.execute(
        select(func.sum(Posting.amount)).where(Posting.clan_id == raid.clan.id)
    ).scalar_one()
    assert total == 0
    assert _balance(raid, "阿明") == -1500 + 337 or _balance(raid, "阿明") == -1500 + 338
    shares = sorted(_balance(raid, n) for n in ("盟主", "幹部", "小美"))
    assert all(s in (337, 338) for s in shares)
    assert _balance(raid, "路人") == 0
    # A second settlement is a no-op: one sale, one entry.
    assert (
        auctions.settle_auction(db.session, raid.clan.id, auction.id, now=ENDS + timedelta(hours=1))
        is False
    )
    assert db.session.execute(select(func.count(Sale.id))).scalar_one() == 1


def test_no_bids_sends_the_item_back_to_held(raid):
    auction = _open(raid)
    report = auctions.settle_due(db.session, now=ENDS)
    assert report.settled == [auction.id] and report.failed == []
    assert db.session.get(Auction, auction.id).status == AuctionStatus.NO_BIDS
    assert db.session.get(Drop, raid.drop.id).status == DropStatus.HELD
    assert auctions.settle_due(db.session, now=ENDS).settled == []


def test_equal_sealed_bids_go_to_the_earlier(raid):
    auction = _open(raid, sealed=True)
    _bid(raid, raid.b, "小美", 2000, at=T0 + timedelta(minutes=1))
    _bid(raid, raid.a, "阿明", 2000, at=T0 + timedelta(minutes=2))
    page = auction_board.auction_page(
        db.session, raid.a.id, raid.clan.id, auction.id, now=T0 + timedelta(minutes=3)
    )
    assert page.current_price is None and page.bids == [] and page.minimum == 2100
    assert page.standing == auction_board.Standing.SEALED
    page = auction_board.auction_page(db.session, raid.a.id, raid.clan.id, auction.id, now=ENDS)
    assert page.standing == auction_board.Standing.LOST
    assert page.winner_name == "小美" and page.current_price == 2000


def test_a_late_bid_extends_the_end(raid):
    auction = _open(raid, snipe_window_minutes=5, snipe_extension_minutes=3)
    _bid(raid, raid.a, "阿明", 1000, at=ENDS - timedelta(minutes=10))
    assert db.session.get(Auction, auction.id).ends_at == ENDS
    _bid(raid, raid.b, "小美", 1100, at=ENDS - timedelta(minutes=1))
    assert db.session.get(Auction, auction.id).ends_at == ENDS + timedelta(minutes=2)
    _bid(raid, raid.a, "阿明", 1200, at=ENDS + timedelta(minutes=1))  # still running
    with pytest.raises(Conflict):
        _bid(raid, raid.b, "小美", 1300, at=ENDS + timedelta(minutes=4, seconds=1))
    assert (
        auctions.settle_auction(
            db.session, raid.clan.id, auction.id, now=ENDS + timedelta(minutes=3)
        )
        is False
    )


def test_attendees_only_and_own_characters_only(raid):
    _open(raid, eligibility=Eligibility.ATTENDEES)
    with pytest.raises(ValidationError) as absent:
        _bid(raid, raid.c, "路人", 1000)
    assert absent.value.field == "amount"
    with pytest.raises(ValidationError) as foreign:
        _bid(raid, raid.c, "阿明", 1000)  # someone else's character
    assert foreign.value.field == "character_id"
    _bid(raid, raid.a, "阿明", 1000)


def test_the_bidding_limit_counts_the_balance_and_what_one_leads(raid):
    auctions.set_auction_credit(db.session, raid.officer.id, raid.clan.id, 1500)
    first = _open(raid)
    second_drop = record_drop(
        db.session,
        raid.leader.id,
        raid.clan.id,
        kill_id=raid.kill.id,
        name="力量手套",
        holder_character_id=raid.chars["盟主"].id,
        now=T0,
    )
    second = auctions.open_auction(
        db.session,
        raid.leader.id,
        raid.clan.id,
        second_drop.id,
        start_price=500,
        increment=100,
        ends_at=ENDS,
        now=T0,
    )
    with pytest.raises(ValidationError) as over:
        _bid(raid, raid.a, "阿明", 1600, auction=first)
    assert over.value.params == {"room": 1500}
    _bid(raid, raid.a, "阿明", 1000, auction=first)
    with pytest.raises(ValidationError) as committed:
        _bid(raid, raid.a, "阿明", 600, auction=second)  # 1000 already leading elsewhere
    assert committed.value.params == {"room": 500}
    _bid(raid, raid.a, "阿明", 500, auction=second)
    # Outbid on the first: those diamonds are free again for the second.
    _bid(raid, raid.b, "小美", 1100, auction=first)
    _bid(raid, raid.a, "阿明", 1500, auction=second)
    with pytest.raises(PermissionDenied):
        auctions.set_auction_credit(db.session, raid.a.id, raid.clan.id, None)


def test_a_sealed_bid_counts_against_the_limit_whether_it_leads_or_not(raid):
    auctions.set_auction_credit(db.session, raid.officer.id, raid.clan.id, 3000)
    sealed = _open(raid, sealed=True)
    other = record_drop(
        db.session,
        raid.leader.id,
        raid.clan.id,
        kill_id=raid.kill.id,
        name="力量手套",
        holder_character_id=raid.chars["盟主"].id,
        now=T0,
    )
    visible = auctions.open_auction(
        db.session,
        raid.leader.id,
        raid.clan.id,
        other.id,
        start_price=500,
        increment=100,
        ends_at=ENDS,
        now=T0,
    )
    _bid(raid, raid.b, "小美", 2500, auction=sealed)  # beats 阿明's, but nobody can tell
    _bid(raid, raid.a, "阿明", 2000, auction=sealed)
    with pytest.raises(ValidationError) as refused:
        _bid(raid, raid.a, "阿明", 1100, auction=visible)
    assert refused.value.params == {"room": 1000}


def test_bidders_of_a_cancelled_auction_neither_won_nor_lost(raid):
    auction = _open(raid)
    _bid(raid, raid.a, "阿明", 1000)
    auctions.cancel_auction(db.session, raid.officer.id, raid.clan.id, auction.id, reason="改分配")
    page = auction_board.auction_page(db.session, raid.a.id, raid.clan.id, auction.id, now=T0)
    assert page.standing == auction_board.Standing.NONE and page.winner_name is None
    assert page.current_price is None and page.leader_name is None


def test_only_the_holder_or_an_officer_opens_and_only_once(raid):
    with pytest.raises(PermissionDenied):
        auctions.open_auction(
            db.session,
            raid.a.id,
            raid.clan.id,
            raid.drop.id,
            start_price=1,
            increment=1,
            ends_at=ENDS,
            now=T0,
        )
    with pytest.raises(ValidationError) as soon:
        _open(raid, ends_at=T0 + timedelta(minutes=1))
    assert soon.value.field == "ends_at"
    with pytest.raises(ValidationError) as who:
        _open(raid, eligibility="guild")
    assert who.value.field == "eligibility"
    _open(raid)
    with pytest.raises(Conflict):
        _open(raid)
    with pytest.raises(Conflict):  # not sold elsewhere while members bid
        sales.record_internal_purchase(
            db.session,
            raid.leader.id,
            raid.clan.id,
            raid.drop.id,
            buyer_character_id=raid.chars["阿明"].id,
            price=1,
            now=T0,
        )


def test_cancel_needs_an_officer_and_a_reason_and_stops_the_bidding(raid):
    auction = _open(raid)
    _bid(raid, raid.a, "阿明", 1000)
    with pytest.raises(PermissionDenied):
        auctions.cancel_auction(db.session, raid.a.id, raid.clan.id, auction.id, reason="x")
    with pytest.raises(ValidationError):
        auctions.cancel_auction(db.session, raid.officer.id, raid.clan.id, auction.id, reason="  ")
    auctions.cancel_auction(
        db.session, raid.officer.id, raid.clan.id, auction.id, reason="拿去打裝", now=T0
    )
    assert db.session.get(Drop, raid.drop.id).status == DropStatus.HELD
    assert db.session.get(Auction, auction.id).cancel_reason == "拿去打裝"
    with pytest.raises(Conflict):
        _bid(raid, raid.b, "小美", 2000)
    assert auctions.settle_due(db.session, now=ENDS).settled == []


def test_a_closed_month_refuses_bids(raid):
    _open(raid)
    period = period_for_day(db.session, raid.clan, T0.date())
    period.status = PeriodStatus.CLOSED
    db.session.commit()
    with pytest.raises(Conflict):
        _bid(raid, raid.a, "阿明", 1000)


def test_every_bid_and_the_result_are_in_the_audit_log(raid):
    auction = _open(raid)
    _bid(raid, raid.a, "阿明", 1000)
    _bid(raid, raid.b, "小美", 1200)
    auctions.settle_auction(db.session, raid.clan.id, auction.id, now=ENDS)
    logs = (
        db.session.execute(
            select(AuditLog).where(AuditLog.clan_id == raid.clan.id).order_by(AuditLog.id)
        )
        .scalars()
        .all()
    )
    bids = [log for log in logs if log.entity_type == "Bid"]
    assert [(log.actor_id, log.after["amount"]) for log in bids] == [
        (raid.a.id, 1000),
        (raid.b.id, 1200),
    ]
    results = [log for log in logs if log.entity_type == "Auction" and log.action == "update"]
    assert results[-1].after["status"] == "won" and results[-1].before["status"] == "open"


def test_settle_auctions_command(app, raid):
    auction = _open(raid)
    auction.ends_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["settle-auctions"])
    assert first.exit_code == 0, first.output
    assert "1 auction(s) settled" in first.output
    again = runner.invoke(args=["settle-auctions"])
    assert "0 auction(s) settled" in again.output
    assert db.session.get(Drop, raid.drop.id).status == DropStatus.HELD
    bad = runner.invoke(args=["settle-auctions", "--clan", "zero"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_a_result_that_cannot_be_booked_is_reported_and_kept_open(raid):
    auction = _open(raid)
    _bid(raid, raid.a, "阿明", 1000)
    period = period_for_day(db.session, raid.clan, ENDS.date())
    period.status = PeriodStatus.CLOSED  # the month was closed early, before the end
    db.session.commit()
    report = auctions.settle_due(db.session, now=ENDS)
    assert report.settled == [] and [a for a, _ in report.failed] == [auction.id]
    assert "closed" in report.failed[0][1]
    assert db.session.get(Auction, auction.id).status == AuctionStatus.OPEN
    assert db.session.get(Drop, raid.drop.id).status == DropStatus.AUCTION
    page = auction_board.auction_page(db.session, raid.a.id, raid.clan.id, auction.id, now=ENDS)
    assert page.settle_error is not None and not page.running and page.bids
