"""The clan link: a clan month mirrored into a player's book, step by step.

Clan: 5 % exchange fee, 10 % fund cut, the payer grosses up. "me" plays M1 and M2 (one
wallet), "other" plays O, the leader plays L (the treasurer). March 2026:

  S1  M1 holds, M1 O share 1:1, received 1000: fund 100, shares 450
      -> me: claim -550 (M1 -1000 +450), in hand +1000, shares +450
  S2  O holds, M2 O L share 1:1:1, received 900: fund 90, shares 270
      -> me: claim +270, shares +270
  S2 corrected to 600 (reversal + repost): fund 60, shares 180
      -> me: claim -270 then +180, shares -270 then +180
  I1  M2 buys an item of a kill of O and L at 300: fund 30, shares 135
      -> me: claim -300, spending (遊戲) 300

March balances: M1 -550, M2 -120, O 450 - 600 + 180 + 135 = 165, L 180 + 135 = 315, fund
190 (sum 0). The close nets the wallet (M2's -120 onto M1: M1 -670) and M1 pays the
treasurer L 315 + 190 = 505 (gross ceil(505 / 0.95) = 532, fee 27) and O 165 (gross 174,
fee 9) -> me: claim +670, in hand -706, fees 36. A reopen then reverses the opening and the
netting (mirrored as a zero-sum pair).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, func, select

from clanledger.domain.book.kinds import TxnKind
from clanledger.extensions import db
from clanledger.models import Character, Membership, MembershipStatus, Role, Transfer
from clanledger.models.book import (
    BookAccount,
    BookCategory,
    BookPosting,
    BookProfile,
    BookTransaction,
)
from clanledger.services import bosses, close, kills, sales, transfers, wallets
from clanledger.services.book import clan_link
from clanledger.services.book.accounts import balances, ensure_book
from clanledger.services.book.transactions import delete as delete_txn
from clanledger.services.drops import list_drop, record_drop
from clanledger.services.errors import Conflict
from clanledger.services.periods import period_for_day

MARCH = date(2026, 3, 1)


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def clan_month(make_user, make_clan, add_member, make_character):
    leader, officer = make_user("leader"), make_user("officer")
    me, other = make_user("me"), make_user("other")
    clan = make_clan(leader=leader, name="狂戰天下")
    add_member(clan, officer, Role.OFFICER)
    add_member(clan, me)
    add_member(clan, other)
    chars = {
        "L": make_character(clan, leader, "L"),
        "M1": make_character(clan, me, "M1"),
        "M2": make_character(clan, me, "M2"),
        "O": make_character(clan, other, "O"),
    }
    ids = {n: c.id for n, c in chars.items()}
    boss = bosses.add_boss(db.session, officer.id, clan.id, "安塔瑞斯")

    def kill(day: int, weights: dict[str, str]) -> int:
        return kills.record_kill(
            db.session,
            officer.id,
            clan.id,
            boss_id=boss.id,
            killed_at=at(day),
            participants={ids[n]: w for n, w in weights.items()},
            now=at(day),
        ).id

    def drop(day: int, holder: str, weights: dict[str, str], name: str) -> int:
        return record_drop(
            db.session,
            officer.id,
            clan.id,
            kill_id=kill(day, weights),
            name=name,
            holder_character_id=ids[holder],
        ).id

    def sell(day: int, holder: str, weights: dict[str, str], received: int, name: str) -> int:
        drop_id = drop(day, holder, weights, name)
        list_drop(db.session, officer.id, clan.id, drop_id, asking_price=received + 60, now=at(day))
        sales.record_sale(
            db.session,
            officer.id,
            clan.id,
            drop_id,
            received=received,
            sold_at=at(day, 14),
            now=at(day, 15),
        )
        return drop_id

    period = period_for_day(db.session, clan, MARCH)
    db.session.commit()
    return {
        "clan": clan,
        "leader": leader,
        "officer": officer,
        "me": me,
        "other": other,
        "ids": ids,
        "period": period,
        "sell": sell,
        "drop": drop,
    }


def _code_total(user_id: int, code: str) -> int:
    category = select(BookCategory.id).where(
        BookCategory.user_id == user_id, BookCategory.code == code
    )
    total = db.session.scalar(
        select(func.sum(BookPosting.amount)).where(
            BookPosting.user_id == user_id, BookPosting.category_id.in_(category)
        )
    )
    return int(total or 0)


def _claim(user_id: int, clan_id: int) -> int:
    account = db.session.scalar(
        select(BookAccount).where(
            BookAccount.user_id == user_id, BookAccount.link_ref == f"clan:{clan_id}"
        )
    )
    return balances(db.session, user_id).get(account.id, 0) if account else 0


def _mirrored(user_id: int, expected_claim: int) -> None:
    """Sync, then the claim equals the clan statement (the check) and the figure by hand;
    every mirrored transaction balances, and a second sync makes nothing."""
    clan_link.sync(db.session, user_id)
    rows = [r for r in clan_link.check(db.session, user_id) if r.active]
    assert rows and all(r.matches for r in rows), rows
    assert sum(r.mirrored for r in rows) == expected_claim
    assert clan_link.sync(db.session, user_id) == 0
    assert clan_link.new_entries(db.session, user_id) == []
    sums = db.session.execute(
        select(BookPosting.transaction_id, func.sum(BookPosting.amount))
        .where(BookPosting.user_id == user_id)
        .group_by(BookPosting.transaction_id)
    ).all()
    assert all(total == 0 for _, total in sums)


def _hand(user_id: int) -> int:
    profile = db.session.get(BookProfile, user_id)
    return balances(db.session, user_id).get(profile.clan_link_account_id, 0)


def _run_march(m) -> None:
    """The sales, the correction and the internal purchase, checking after each."""
    me, clan, officer, ids = m["me"], m["clan"], m["officer"], m["ids"]
    s1 = m["sell"](3, "M1", {"M1": "1", "O": "1"}, 1000, "屠龍")
    _mirrored(me.id, -550)
    assert _hand(me.id) == 1000 and _code_total(me.id, "clan_share") == -450
    s2 = m["sell"](5, "O", {"M2": "1", "O": "1", "L": "1"}, 900, "巴風特之杖")
    _mirrored(me.id, -280)
    sales.correct_sale(
        db.session, officer.id, clan.id, s2, received=600, reason="看錯價格", now=at(8)
    )
    _mirrored(me.id, -370)
    assert _code_total(me.id, "clan_share") == -(450 + 180)
    bought = m["drop"](10, "O", {"O": "1", "L": "1"}, "黑暗精靈之弓")
    sales.record_internal_purchase(
        db.session,
        officer.id,
        clan.id,
        bought,
        buyer_character_id=ids["M2"],
        price=300,
        now=at(10, 15),
    )
    _mirrored(me.id, -670)
    assert _code_total(me.id, "games") == 300
    assert s1


def test_a_clan_month_mirrors_step_by_step(clan_month):
    m = clan_month
    me, clan, officer, leader, ids = m["me"], m["clan"], m["officer"], m["leader"], m["ids"]
    ensure_book(db.session, me.id)
    hand = clan_link.enable(db.session, me.id, None)
    assert hand.currency == "DIA" and not hand.read_only
    _run_march(m)
    wallets.group_characters(db.session, me.id, clan.id, [ids["M1"], ids["M2"]])
    close.confirm_close(db.session, officer.id, clan.id, m["period"].id)
    # The opening only carries March into April: nothing new to the claim, but the wallet
    # netting is a zero-sum pair of lines on the claim account.
    _mirrored(me.id, -670)
    netting = db.session.scalars(
        select(BookTransaction).where(BookTransaction.note.like("同錢包%"))
    ).one()
    assert sorted(p.amount for p in netting.postings) == [-120, 120]
    plan = db.session.scalars(
        select(Transfer).where(Transfer.period_id == m["period"].id).order_by(Transfer.seq)
    ).all()
    assert {(t.payer_character_id, t.receiver_character_id, t.gross, t.fee) for t in plan} == {
        (ids["M1"], ids["L"], 532, 27),
        (ids["M1"], ids["O"], 174, 9),
    }
    for t in plan:
        transfers.mark_paid(db.session, me.id, clan.id, t.id)
    _mirrored(me.id, -670)  # paid, not confirmed: no entry yet
    to_leader = next(t for t in plan if t.receiver_character_id == ids["L"])
    to_other = next(t for t in plan if t.receiver_character_id == ids["O"])
    transfers.confirm_received(db.session, leader.id, clan.id, to_leader.id)
    _mirrored(me.id, -165)
    assert _hand(me.id) == 1000 - 532
    transfers.confirm_received(db.session, m["other"].id, clan.id, to_other.id)
    _mirrored(me.id, 0)
    assert _hand(me.id) == 1000 - 706
    assert _code_total(me.id, "fees") == 36
    close.reopen_period(db.session, leader.id, clan.id, m["period"].id, "漏記一筆")
    _mirrored(me.id, 0)
    reversal = db.session.scalars(
        select(BookTransaction).where(BookTransaction.note.like("沖銷：同錢包%"))
    ).one()
    assert sorted(p.amount for p in reversal.postings) == [-120, 120]
    m["sell"](20, "O", {"M1": "1"}, 500, "妖魔之劍")  # the reopened March: 50 fund, 450 M1
    _mirrored(me.id, 450)
    assert _code_total(me.id, "clan_share") == -(450 + 180 + 450)
    # Wealth = in hand + claim; every loss was a fee or a purchase, every gain a share.
    wealth = _hand(me.id) + 450
    assert wealth == 1080 - 300 - 36
    # Each entry is mirrored once, as a read-only clan transaction with the clan as payee.
    txns = db.session.scalars(select(BookTransaction).where(BookTransaction.user_id == me.id)).all()
    assert {t.kind for t in txns} == {TxnKind.CLAN}
    assert {t.payee for t in txns} == {"狂戰天下"}
    assert len({t.source_ref for t in txns}) == len(txns)
    assert any("屠龍" in t.note for t in txns) and any("#1" in t.note for t in txns)
    with pytest.raises(Conflict):
        delete_txn(db.session, me.id, txns[0].id)


def test_a_second_user_has_a_separate_mirror(clan_month):
    m = clan_month
    me, other = m["me"], m["other"]
    clan_link.enable(db.session, me.id, None)
    clan_link.enable(db.session, other.id, None)
    _run_march(m)
    _mirrored(other.id, 165)
    assert _claim(me.id, m["clan"].id) == -670
    # O: S1 share 450; S2 held (received 900, share 270), reversed and reposted at 600
    # (share 180); I1 share 135. The holder's diamonds are in hand: 600 after the repost.
    assert _code_total(other.id, "clan_share") == -(450 + 180 + 135)
    assert _hand(other.id) == 600
    used = select(BookPosting.account_id).where(
        BookPosting.user_id == me.id, BookPosting.account_id.is_not(None)
    )
    mine = set(db.session.scalars(used))
    theirs = set(db.session.scalars(select(BookAccount.id).where(BookAccount.user_id == other.id)))
    assert mine and not mine & theirs


def test_turning_on_late_mirrors_history_and_off_removes_it(clan_month):
    m = clan_month
    me = m["me"]
    m["sell"](3, "M1", {"M1": "1", "O": "1"}, 1000, "屠龍")
    assert clan_link.sync(db.session, me.id) == 0  # off: nothing
    clan_link.enable(db.session, me.id, None)
    _mirrored(me.id, -550)
    before = db.session.scalar(select(func.count()).select_from(BookAccount))
    removed = clan_link.disable(db.session, me.id)
    assert removed == 1
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(BookTransaction)
            .where(BookTransaction.user_id == me.id)
        )
        == 0
    )
    assert db.session.scalar(select(func.count()).select_from(BookAccount)) == before - 1
    assert clan_link.sync(db.session, me.id) == 0
    status = clan_link.link_status(db.session, me.id)
    assert not status.enabled and status.transactions == 0
    # On again, into the same diamonds account: everything comes back once.
    clan_link.enable(db.session, me.id, status.choices[0].id)
    _mirrored(me.id, -550)
    assert _hand(me.id) == 1000


def test_moving_the_link_to_another_account_moves_the_game_lines(clan_month):
    m = clan_month
    me = m["me"]
    first = clan_link.enable(db.session, me.id, None)
    m["sell"](3, "M1", {"M1": "1", "O": "1"}, 1000, "屠龍")
    clan_link.sync(db.session, me.id)
    second = clan_link.enable(db.session, me.id, None)
    assert second.id != first.id and second.name != first.name
    totals = balances(db.session, me.id)
    assert totals.get(first.id, 0) == 0 and totals[second.id] == 1000


def test_leaving_the_clan_keeps_the_history(clan_month):
    m = clan_month
    me, clan = m["me"], m["clan"]
    clan_link.enable(db.session, me.id, None)
    m["sell"](3, "M1", {"M1": "1", "O": "1"}, 1000, "屠龍")
    _mirrored(me.id, -550)
    membership = db.session.scalars(
        select(Membership).where(Membership.user_id == me.id, Membership.clan_id == clan.id)
    ).one()
    membership.status = MembershipStatus.REMOVED
    db.session.commit()
    m["sell"](4, "M1", {"M1": "1", "O": "1"}, 1000, "屠龍二")
    assert clan_link.sync(db.session, me.id) == 0  # a clan they left is no longer read
    rows = clan_link.check(db.session, me.id)
    assert [(r.active, r.mirrored, r.statement) for r in rows] == [(False, -550, None)]
    assert _claim(me.id, clan.id) == -550


@pytest.mark.parametrize("which", ["cash", "claim", "foreign", "missing", "archived"])
def test_enable_refuses_an_account_that_is_not_an_own_diamonds_account(
    clan_month, make_user, which
):
    from clanledger.services.book.accounts import create_account, update_account
    from clanledger.services.errors import ValidationError

    me = clan_month["me"]
    ensure_book(db.session, me.id)
    clan_link.enable(db.session, me.id, None)
    clan_month["sell"](3, "M1", {"M1": "1", "O": "1"}, 1000, "屠龍")
    clan_link.sync(db.session, me.id)
    stranger = make_user()
    ensure_book(db.session, stranger.id)
    rows = db.session.scalars(select(BookAccount).where(BookAccount.user_id == me.id))
    mine = {a.link_ref or a.type.value: a.id for a in rows}
    if which == "archived":
        spare = create_account(db.session, me.id, "舊鑽石", "diamonds", "DIA")
        update_account(db.session, me.id, spare.id, "舊鑽石", archived=True)
        target = spare.id
    else:
        target = {
            "cash": mine["cash"],
            "claim": mine[f"clan:{clan_month['clan'].id}"],
            "foreign": create_account(db.session, stranger.id, "鑽", "diamonds", "DIA").id,
            "missing": 10**9,
        }[which]
    with pytest.raises(ValidationError):
        clan_link.enable(db.session, me.id, target)
    assert _hand(me.id) == 1000


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


def _selects(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def test_a_sync_costs_a_fixed_number_of_queries(clan_month):
    """Nothing new: the profile and one anti-join. New entries: the same reads for 2 sales
    as for 6 (no query per entry; the rows it writes are inserts)."""
    m = clan_month
    me_id = m["me"].id
    clan_link.enable(db.session, me_id, None)
    m["sell"](2, "M1", {"M1": "1", "O": "1"}, 1000, "第一把")
    clan_link.sync(db.session, me_id)  # makes the claim account

    def sync_cost(count: int, first_day: int) -> int:
        for day in range(first_day, first_day + count):
            m["sell"](day, "O", {"M2": "1", "O": "1"}, 600, f"劍{day}")
        db.session.expire_all()
        with counting() as statements:
            assert clan_link.sync(db.session, me_id) == count
        return len(_selects(statements))

    assert sync_cost(2, 3) == sync_cost(6, 10)
    db.session.expire_all()
    with counting() as statements:
        assert clan_link.sync(db.session, me_id) == 0
    assert len(_selects(statements)) == 2, statements


def test_a_character_that_changes_hands_shows_as_a_difference_until_rebuilt(clan_month):
    m = clan_month
    me, other, ids = m["me"], m["other"], m["ids"]
    clan_link.enable(db.session, me.id, None)
    m["sell"](3, "M1", {"M2": "1", "O": "1"}, 1000, "屠龍")
    _mirrored(me.id, -550)  # M1 held (-1000), M2 shared 450
    db.session.get(Character, ids["M2"]).user_id = other.id
    db.session.commit()
    [row] = clan_link.check(db.session, me.id)
    assert (row.mirrored, row.statement, row.matches) == (-550, -1000, False)
    hand = db.session.get(BookProfile, me.id).clan_link_account_id
    clan_link.disable(db.session, me.id)
    clan_link.enable(db.session, me.id, hand)
    _mirrored(me.id, -1000)
