"""A scripted month, from the kills to the last confirmed transfer, checked by hand.

Clan: 5 % exchange fee, 10 % fund cut, the payer grosses up. Characters A (the leader's, so
the treasurer), B, C, D, E. March 2026 (Asia/Taipei):

  S1  B holds, A B C share 1:1:1, received 1000: fund 100, shares 300 each
      -> B -700, A +300, C +300, fund +100
  S2  D holds, C D E share 1:1:1/2, received 2000: fund 200, shares 720/720/360
      -> D -1280, C +720, E +360, fund +200
  S3  E holds, A D share 2/5:1, received 280: fund 28, shares 72/180
      -> E -280, A +72, D +180, fund +28

Balances: A 372, B -700, C 1020, D -1100, E 80, fund 328 (sum 0). The fund's diamonds go to
the treasurer A, so the plan settles A 700, B -700, C 1020, D -1100, E 80. Two zero-sum
groups, {A, B} and {C, D, E}, give the fewest transfers, 5 - 2 = 3, and the plan is unique
(each group has a single debtor):

  B -> A  net 700:  gross ceil(700 / 0.95) = 737, fee ceil(36.85) = 37
  D -> C  net 1020: gross ceil(1073.68) = 1074,  fee ceil(53.7) = 54
  D -> E  net 80:   gross ceil(84.21) = 85,      fee ceil(4.25) = 5      plan fees 96

Paying each sale at once instead (the fund's cut to the treasurer, one payment per receiver
and sale): 400 (B->A), 300, 720, 360, 200 (D->A), 100 (E->A), 180 with fees 22, 16, 38, 19,
11, 6, 10 = 122 in 7 transfers. Netting saves 122 - 96 = 26 diamonds and 4 transfers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from clanledger.extensions import db
from clanledger.models import (
    AuditLog,
    EntryKind,
    JournalEntry,
    Period,
    PeriodStatus,
    Role,
    Transfer,
    TransferStatus,
)
from clanledger.services import bosses, close, kills, periods, sales, transfers
from clanledger.services.drops import list_drop, record_drop
from clanledger.services.errors import Conflict, PermissionDenied, ValidationError
from clanledger.services.journal import member_balances
from clanledger.services.periods import period_for_day

MARCH = date(2026, 3, 1)


def at(day: int, hour: int = 12, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def month(make_user, make_clan, add_member, make_character):
    """The clan, its players and characters, and the three March sales."""
    leader, officer = make_user("leader"), make_user("officer")
    players = {n: make_user(f"p{n}") for n in "BCDE"}
    clan = make_clan(leader=leader)
    add_member(clan, officer, Role.OFFICER)
    for user in players.values():
        add_member(clan, user)
    chars = {"A": make_character(clan, leader, "A")}
    chars.update({n: make_character(clan, u, n) for n, u in players.items()})
    ids = {n: c.id for n, c in chars.items()}
    boss = bosses.add_boss(db.session, officer.id, clan.id, "安塔瑞斯")

    def sale(day: int, holder: str, weights: dict[str, str], received: int) -> None:
        kill = kills.record_kill(
            db.session,
            officer.id,
            clan.id,
            boss_id=boss.id,
            killed_at=at(day),
            participants={ids[n]: w for n, w in weights.items()},
            now=at(day),
        )
        drop = record_drop(
            db.session,
            officer.id,
            clan.id,
            kill_id=kill.id,
            name="屠龍",
            holder_character_id=ids[holder],
        )
        list_drop(db.session, officer.id, clan.id, drop.id, asking_price=received + 60, now=at(day))
        sales.record_sale(
            db.session,
            officer.id,
            clan.id,
            drop.id,
            received=received,
            sold_at=at(day, 14),
            now=at(day, 15),
        )

    sale(3, "B", {"A": "1", "B": "1", "C": "1"}, 1000)
    sale(10, "D", {"C": "1", "D": "1", "E": "1/2"}, 2000)
    sale(20, "E", {"A": "2/5", "D": "1"}, 280)
    period = period_for_day(db.session, clan, MARCH)
    db.session.commit()
    return {
        "clan": clan,
        "leader": leader,
        "officer": officer,
        "players": players,
        "ids": ids,
        "period": period,
    }


def by_name(ids: dict[str, int], balances: dict) -> dict[str, int]:
    names = {v: k for k, v in ids.items()}
    return {
        (names[cid] if kind == "member" else kind): amount
        for (kind, cid), amount in balances.items()
        if amount
    }


def test_march_balances_plan_gross_prices_and_savings_by_hand(month):
    clan, officer, ids, period = month["clan"], month["officer"], month["ids"], month["period"]
    balances = member_balances(db.session, clan.id, period.id)
    assert by_name(ids, balances) == {
        "A": 372,
        "B": -700,
        "C": 1020,
        "D": -1100,
        "E": 80,
        "fund": 328,
    }
    preview = close.preview_close(db.session, officer.id, clan.id, period.id)
    assert preview.treasurer_id == ids["A"] and preview.fund_balance == 328
    plan = {(t.payer, t.receiver): (t.net, t.gross, t.fee) for t in preview.transfers}
    assert plan == {
        ("B", "A"): (700, 737, 37),
        ("D", "C"): (1020, 1074, 54),
        ("D", "E"): (80, 85, 5),
    }
    assert all(t.received == t.net for t in preview.transfers)
    s = preview.savings
    assert (s.per_sale_fees, s.plan_fees, s.saved) == (122, 96, 26)
    assert (s.per_sale_transfers, s.plan_transfers) == (7, 3)
    why = {
        (t.payer, t.receiver): {(w.name, w.with_fund): w.balance for w in t.why}
        for t in preview.transfers
    }
    assert why[("B", "A")] == {("A", True): 700, ("B", False): -700}
    assert why[("D", "E")] == {("C", False): 1020, ("D", False): -1100, ("E", False): 80}
    assert preview.sales == 3


def test_close_then_pay_and_confirm_every_transfer(month, tmp_path):
    clan, officer, ids, period = month["clan"], month["officer"], month["ids"], month["period"]
    players, leader = month["players"], month["leader"]
    preview = close.preview_close(db.session, officer.id, clan.id, period.id)
    close.confirm_close(db.session, officer.id, clan.id, period.id, preview.digest)

    march = db.session.get(Period, period.id)
    assert march.status == PeriodStatus.CLOSED and march.close_count == 1
    with pytest.raises(Conflict, match="already closed"):
        close.confirm_close(db.session, officer.id, clan.id, period.id)
    april = db.session.execute(
        select(Period).where(Period.clan_id == clan.id, Period.starts_on == date(2026, 4, 1))
    ).scalar_one()
    # The fund's balance and every other balance open April.
    assert by_name(ids, member_balances(db.session, clan.id, april.id)) == {
        "A": 372,
        "B": -700,
        "C": 1020,
        "D": -1100,
        "E": 80,
        "fund": 328,
    }
    rows = {
        (r.payer, r.receiver): r for r in transfers.list_transfers(db.session, officer.id, clan.id)
    }
    assert {k: r.transfer.status for k, r in rows.items()} == dict.fromkeys(
        [("B", "A"), ("D", "C"), ("D", "E")], TransferStatus.PLANNED
    )
    # Each member sees only their own to-do.
    todo_d = transfers.my_todo(db.session, players["D"].id, clan.id)
    assert {(r.payer, r.receiver) for r in todo_d} == {("D", "C"), ("D", "E")}
    assert all(r.mine_to_pay for r in todo_d)
    with pytest.raises(PermissionDenied):
        transfers.mark_paid(db.session, players["C"].id, clan.id, rows[("B", "A")].transfer.id)

    ba, dc, de = (rows[k].transfer.id for k in [("B", "A"), ("D", "C"), ("D", "E")])
    transfers.mark_paid(db.session, players["B"].id, clan.id, ba)
    with pytest.raises(Conflict):
        transfers.mark_paid(db.session, players["B"].id, clan.id, ba)
    transfers.confirm_received(db.session, leader.id, clan.id, ba)
    transfers.mark_paid(db.session, players["D"].id, clan.id, dc, paid_gross=1074)
    transfers.confirm_received(db.session, players["C"].id, clan.id, dc)
    # D pays E at 90 instead of 85: the fee is ceil(4.5) = 5, E gets 85, 5 too many.
    transfers.mark_paid(db.session, players["D"].id, clan.id, de, paid_gross=90)
    transfers.confirm_received(db.session, players["E"].id, clan.id, de)
    with pytest.raises(Conflict):
        transfers.confirm_received(db.session, players["E"].id, clan.id, de)

    assert transfers.list_transfers(db.session, officer.id, clan.id, outstanding_only=True) == []
    # After the last transfer: A holds the fund's 328; the 5 overpaid stays as D +5, E -5.
    assert by_name(ids, member_balances(db.session, clan.id, april.id)) == {
        "A": -328,
        "D": 5,
        "E": -5,
        "fund": 328,
    }
    # Every transfer entry went into April, and the exchange-fee account balances to 0.
    entries = db.session.execute(
        select(JournalEntry).where(JournalEntry.kind == EntryKind.TRANSFER)
    ).scalars()
    assert {e.period_id for e in entries} == {april.id}
    # The March journal never changed.
    assert by_name(ids, member_balances(db.session, clan.id, period.id))["fund"] == 328


def test_stale_plan_and_roles(month):
    clan, officer, period = month["clan"], month["officer"], month["period"]
    player = month["players"]["B"]
    with pytest.raises(PermissionDenied):
        close.preview_close(db.session, player.id, clan.id, period.id)
    with pytest.raises(Conflict, match="changed"):
        close.confirm_close(db.session, officer.id, clan.id, period.id, "not-the-digest")
    assert db.session.get(Period, period.id).status == PeriodStatus.OPEN


def test_confirm_creates_the_plan_shown_even_where_a_fresh_plan_differs(month):
    """Another server process may plan the same balances differently (the planner's time
    budget); the confirm holds to the links the officer saw when they settle as well."""
    clan, officer, ids, period = month["clan"], month["officer"], month["ids"], month["period"]
    preview = close.preview_close(db.session, officer.id, clan.id, period.id)
    assert preview.plan_code == f"{ids['B']}>{ids['A']}:700,{ids['D']}>{ids['C']}:1020," + (
        f"{ids['D']}>{ids['E']}:80"
    )
    # Just as few transfers, another tree over {C, D, E}: D pays C all, C passes 80 to E.
    shown = f"{ids['B']}>{ids['A']}:700,{ids['C']}>{ids['E']}:80,{ids['D']}>{ids['C']}:1100"
    close.confirm_close(db.session, officer.id, clan.id, period.id, preview.digest, shown)
    stored = db.session.execute(
        select(Transfer).where(Transfer.period_id == period.id).order_by(Transfer.seq)
    ).scalars()
    names = {v: k for k, v in ids.items()}
    assert [
        (names[t.payer_character_id], names[t.receiver_character_id], t.net) for t in stored
    ] == [
        ("B", "A", 700),
        ("C", "E", 80),
        ("D", "C", 1100),
    ]


@pytest.mark.parametrize("shown", ["B>A:700", "garbage", "1>2:x", ""])
def test_confirm_refuses_a_shown_plan_that_does_not_settle(month, shown):
    clan, officer, ids, period = month["clan"], month["officer"], month["ids"], month["period"]
    preview = close.preview_close(db.session, officer.id, clan.id, period.id)
    shown = shown.replace("B", str(ids["B"])).replace("A", str(ids["A"]))
    with pytest.raises(Conflict, match="plan changed"):
        close.confirm_close(db.session, officer.id, clan.id, period.id, preview.digest, shown)
    assert db.session.get(Period, period.id).status == PeriodStatus.OPEN


def test_remembered_per_sale_payouts_follow_a_new_sale(month):
    """The per-sale comparison is remembered between views; a later sale must show."""
    clan, officer, ids, period = month["clan"], month["officer"], month["ids"], month["period"]
    before = close.preview_close(db.session, officer.id, clan.id, period.id).savings
    assert before.per_sale_transfers == 7
    boss = bosses.add_boss(db.session, officer.id, clan.id, "巴風特")
    kill = kills.record_kill(
        db.session,
        officer.id,
        clan.id,
        boss_id=boss.id,
        killed_at=at(25),
        participants={ids["B"]: "1", ids["C"]: "1"},
        now=at(25),
    )
    drop = record_drop(
        db.session, officer.id, clan.id, kill_id=kill.id, name="盾", holder_character_id=ids["B"]
    )
    list_drop(db.session, officer.id, clan.id, drop.id, asking_price=600, now=at(25))
    sales.record_sale(
        db.session, officer.id, clan.id, drop.id, received=500, sold_at=at(25), now=at(25)
    )
    after = close.preview_close(db.session, officer.id, clan.id, period.id).savings
    # B pays C's share and the fund's cut (to the treasurer, A): two more payouts.
    assert after.per_sale_transfers == 9
    assert after.per_sale_fees > before.per_sale_fees


def test_reopen_reverses_the_opening_and_is_audited(month):
    clan, officer, leader, period = (
        month["clan"],
        month["officer"],
        month["leader"],
        month["period"],
    )
    ids, players = month["ids"], month["players"]
    close.confirm_close(db.session, officer.id, clan.id, period.id)
    ba = next(
        r.transfer.id
        for r in transfers.list_transfers(db.session, officer.id, clan.id)
        if r.payer == "B"
    )
    transfers.mark_paid(db.session, players["B"].id, clan.id, ba)
    with pytest.raises(PermissionDenied):
        close.reopen_period(db.session, officer.id, clan.id, period.id, "late sale")
    with pytest.raises(ValidationError):
        close.reopen_period(db.session, leader.id, clan.id, period.id, "  ")
    close.reopen_period(db.session, leader.id, clan.id, period.id, "a sale was missed")

    april = periods.next_period(db.session, clan, db.session.get(Period, period.id))
    assert by_name(ids, member_balances(db.session, clan.id, april.id)) == {}
    kept = db.session.execute(select(Transfer)).scalars().all()
    assert [(t.id, t.status) for t in kept] == [(ba, TransferStatus.PAID)]
    # Closing again plans around the paid transfer: only D's two are planned again.
    preview = close.preview_close(db.session, officer.id, clan.id, period.id)
    assert {(t.payer, t.receiver) for t in preview.transfers} == {("D", "C"), ("D", "E")}
    close.confirm_close(db.session, officer.id, clan.id, period.id, preview.digest)
    assert db.session.get(Period, period.id).close_count == 2
    audit = db.session.execute(
        select(AuditLog.action, AuditLog.entity_type).where(AuditLog.clan_id == clan.id)
    ).all()
    assert ("update", "Period") in audit and ("delete", "Transfer") in audit
    reversal = db.session.execute(
        select(JournalEntry).where(JournalEntry.kind == EntryKind.REVERSAL)
    ).scalar_one()
    assert reversal.reason == "a sale was missed" and reversal.created_by_id == leader.id


def test_carry_threshold_keeps_small_balances_for_next_month(month):
    clan, officer, ids, period = month["clan"], month["officer"], month["ids"], month["period"]
    clan.carry_threshold = 100
    db.session.commit()
    preview = close.preview_close(db.session, officer.id, clan.id, period.id)
    carried = {line.name: line.carried for line in preview.lines if line.carried}
    assert carried == {"E": 80, "D": -80}  # the largest debtor pays 80 less now
    assert all("E" not in (t.payer, t.receiver) for t in preview.transfers)
    close.confirm_close(db.session, officer.id, clan.id, period.id, preview.digest)
    april = periods.next_period(db.session, clan, db.session.get(Period, period.id))
    assert member_balances(db.session, clan.id, april.id)[("member", ids["E"])] == 80


def test_close_period_command(app, month):
    clan = month["clan"]
    runner = app.test_cli_runner()
    args = ["close-period", "--clan", str(clan.id), "--month", "2026-03", "--as", "officer"]
    dry = runner.invoke(args=[*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "B buys A's listing at 737" in dry.output and "Netting saves 26" in dry.output
    assert db.session.get(Period, month["period"].id).status == PeriodStatus.OPEN
    done = runner.invoke(args=args)
    assert done.exit_code == 0 and "2026-03 closed" in done.output
    again = runner.invoke(args=args)
    assert again.exit_code != 0 and "already closed" in again.output
    bad = runner.invoke(
        args=["close-period", "--clan", str(clan.id), "--month", "March", "--as", "officer"]
    )
    assert bad.exit_code != 0 and "2026-03" in bad.output
