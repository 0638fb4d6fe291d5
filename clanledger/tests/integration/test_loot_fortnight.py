"""A scripted fortnight of a clan, every balance worked out by hand below.

Clan: exchange fee 5 % until 7 November, 8 % from 8 November; clan-fund cut 10 %; caller
bonus half a share. Characters are created in the order Lia (leader), Oto (officer), Ami,
Bo, Cy, Dee (+ Dee's alt Dee2), so their ids ascend in that order.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction

import pytest
from sqlalchemy import func, select

from clanledger.extensions import db
from clanledger.models import (
    AuditLog,
    ClanRate,
    Drop,
    DropStatus,
    JournalEntry,
    Posting,
    RateKind,
    Role,
)
from clanledger.services import bosses, dashboard, drops, kills, sales, statements
from clanledger.services.errors import PermissionDenied, ValidationError
from clanledger.services.journal import member_balances


def at(day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def guild(make_user, make_clan, add_member, make_character):
    users = {n: make_user(n) for n in ("lia", "oto", "ami", "bo", "cy", "dee")}
    clan = make_clan(leader=users["lia"], caller_bonus="1/2")
    db.session.add(
        ClanRate(
            clan_id=clan.id, kind=RateKind.EXCHANGE_FEE, bps=800, effective_from=date(2026, 11, 8)
        )
    )
    db.session.commit()
    add_member(clan, users["oto"], Role.OFFICER)
    for name in ("ami", "bo", "cy", "dee"):
        add_member(clan, users[name])
    chars = {
        name.capitalize(): make_character(clan, users[name], name.capitalize())
        for name in ("lia", "oto", "ami", "bo", "cy", "dee")
    }
    chars["Dee2"] = make_character(clan, users["dee"], "Dee2")
    return clan, users, chars


def test_a_fortnight_of_kills_sales_and_corrections(guild):
    clan, u, c = guild
    s = db.session
    lia, oto, ami, bo, cy, dee = (c[n].id for n in ("Lia", "Oto", "Ami", "Bo", "Cy", "Dee"))
    officer = u["oto"].id
    antharas = bosses.add_boss(s, officer, clan.id, "Antharas").id
    valakas = bosses.add_boss(s, officer, clan.id, "Valakas").id

    # -- 2 Nov: K1 Antharas. Lia 1, Oto 1 + caller bonus 1/2, Ami 1, Bo 1/2: total 4.
    k1 = kills.record_kill(
        s,
        officer,
        clan.id,
        boss_id=antharas,
        killed_at=at(2),
        now=at(2),
        participants={lia: "1", oto: "full", ami: "1", bo: "half"},
        caller_character_id=oto,
    )
    assert kills.roll_call_weights(k1) == {lia: 1, oto: Fraction(3, 2), ami: 1, bo: Fraction(1, 2)}
    d1 = drops.record_drop(
        s, officer, clan.id, kill_id=k1.id, name="Sword", holder_character_id=ami
    )
    d3 = drops.record_drop(
        s, officer, clan.id, kill_id=k1.id, name="Cloak", holder_character_id=lia
    )

    # -- 3 Nov: Ami lists and sells D1 herself at 1000; 5 % fee -> 950 expected, 950 typed.
    drops.list_drop(s, u["ami"].id, clan.id, d1.id, 1000, now=at(3))
    sale1 = sales.record_sale(s, u["ami"].id, clan.id, d1.id, received=950, now=at(3))
    assert (sale1.expected_received, sales.is_mismatch(sale1)) == (950, False)
    # fund floor(950 * 10 %) = 95; 855 by 1 : 3/2 : 1 : 1/2 (of 4):
    #   quotas Lia 213.75, Oto 320.625, Ami 213.75, Bo 106.875 -> floors 213+320+213+106 = 852;
    #   3 left go to the largest remainders Bo .875, Lia .75, Ami .75 -> 214, 320, 214, 107.
    assert member_balances(s, clan.id) == {
        ("member", ami): -950 + 214,
        ("member", lia): 214,
        ("member", oto): 320,
        ("member", bo): 107,
        ("fund", None): 95,
    }

    # -- 3 Nov: K2 Valakas with Lia and Oto; Cy and Dee check in with the code.
    k2 = kills.record_kill(
        s,
        officer,
        clan.id,
        boss_id=valakas,
        killed_at=at(3),
        now=at(3),
        participants={lia: "1", oto: "1"},
    )
    code = k2.checkin_code
    kills.check_in(s, u["cy"].id, clan.id, code.lower(), now=at(3, 12, 10))
    with pytest.raises(ValidationError, match=r"(?i)pick which"):
        kills.check_in(s, u["dee"].id, clan.id, code, now=at(3, 12, 15))  # Dee has an alt
    kills.check_in(s, u["dee"].id, clan.id, code, character_id=dee, now=at(3, 12, 20))
    with pytest.raises(ValidationError, match=r"(?i)window closed"):
        kills.check_in(s, u["ami"].id, clan.id, code, now=at(3, 12, 31))  # 30-minute window
    d2 = drops.record_drop(
        s, officer, clan.id, kill_id=k2.id, name="Necklace", holder_character_id=lia
    )

    # -- 5 Nov: D2 listed at 2000, does not sell; relisted at 1800. D3 bought by Bo for 400.
    drops.list_drop(s, u["lia"].id, clan.id, d2.id, 2000, now=at(4))
    drops.mark_unsold(s, u["lia"].id, clan.id, d2.id)
    drops.list_drop(s, u["lia"].id, clan.id, d2.id, 1800, now=at(5))
    assert s.get(Drop, d2.id).relist_count == 1
    sales.record_internal_purchase(
        s, officer, clan.id, d3.id, buyer_character_id=bo, price=400, now=at(5)
    )
    # D3 (K1 weights, no fee): fund 40; 360 by 1 : 3/2 : 1 : 1/2 of 4 = 90, 135, 90, 45 exactly.

    # -- 6 Nov: D4 from K2 goes into clan storage (no diamonds move).
    d4 = drops.record_drop(
        s, officer, clan.id, kill_id=k2.id, name="Crystal", holder_character_id=dee
    )
    drops.store_drop(s, u["dee"].id, clan.id, d4.id)

    # -- 8 Nov: K3 Antharas. Ami 1 + caller 1/2, Bo 1, Cy 1/2, Dee 1/2: total 7/2.
    k3 = kills.record_kill(
        s,
        officer,
        clan.id,
        boss_id=antharas,
        killed_at=at(8),
        now=at(8),
        participants={ami: "1", bo: "1", cy: "0.5", dee: "1/2"},
        caller_character_id=ami,
    )
    d5 = drops.record_drop(
        s, officer, clan.id, kill_id=k3.id, name="Slayer", holder_character_id=bo
    )
    drops.list_drop(s, u["bo"].id, clan.id, d5.id, 3000, now=at(8))

    # -- 9 Nov: D2 sells at 1800; the fee is 8 % now: expected 1800 - 144 = 1656, typed 1650.
    sale2 = sales.record_sale(s, u["lia"].id, clan.id, d2.id, received=1650, now=at(9))
    assert (sale2.expected_received, sale2.fee_bps, sales.is_mismatch(sale2)) == (1656, 800, True)
    # fund 165; 1485 in 4 equal shares = 371.25 -> 371 each and 1 left over: every remainder
    # ties, so it goes to the participant (by character id: Lia, Oto, Cy, Dee) at index
    # item id mod 4, the rotation that keeps one member from always getting it.
    extra = [lia, oto, cy, dee][d2.id % 4]

    # -- 10 Nov: D5 sells at 3000; 8 % fee: expected 2760, typed 2760.
    sales.record_sale(s, u["bo"].id, clan.id, d5.id, received=2760, now=at(10))
    # fund 276; 2484 by 3/2 : 1 : 1/2 : 1/2 (of 7/2): Ami 1064.57, Bo 709.71, Cy 354.86,
    # Dee 354.86 -> floors sum 2481, 3 left: Cy, Dee (.857), Bo (.714) -> 1064, 710, 355, 355.
    assert member_balances(s, clan.id)[("member", bo)] == -400 + 45 + 107 - 2760 + 710

    # -- 11 Nov: K1's roll call is locked; Bo actually came on time: full share, with reason.
    new_k1 = {lia: "1", oto: "1", ami: "1", bo: "1"}
    with pytest.raises(ValidationError, match=r"(?i)reason"):
        kills.set_roll_call(s, officer, clan.id, k1.id, new_k1, oto, now=at(11))
    kills.set_roll_call(
        s, officer, clan.id, k1.id, new_k1, oto, reason="Bo arrived on time", now=at(11)
    )
    # K1 weights now 1 : 3/2 : 1 : 1 (of 9/2). D1 re-posted: 855 -> 190, 285, 190, 190;
    # D3 re-posted: 360 -> 80, 120, 80, 80. (Both exact.)
    audit = s.execute(
        select(AuditLog).where(AuditLog.entity_type == "Attendance", AuditLog.action == "update")
    ).scalar_one()
    assert audit.before["weight"] == "1/2" and audit.after["weight"] == "1"

    # -- 12 Nov: D5's received was mistyped: 2755, not 2760. Corrected with a reason.
    with pytest.raises(PermissionDenied):
        sales.correct_sale(s, u["bo"].id, clan.id, d5.id, received=2755, reason="typo")
    sales.correct_sale(s, officer, clan.id, d5.id, received=2755, reason="typo", now=at(12))
    # fund floor(275.5) = 275; 2480 by 3/2 : 1 : 1/2 : 1/2: Ami 1062.86, Bo 708.57,
    # Cy 354.29, Dee 354.29 -> floors 2478, 2 left: Ami, Bo -> 1063, 709, 354, 354.

    # -- 12-13 Nov: K4 without drops; D6 listed by Cy, D7 held by Dee.
    kills.record_kill(
        s,
        officer,
        clan.id,
        boss_id=valakas,
        killed_at=at(12),
        now=at(12),
        participants={lia: "1", ami: "1"},
    )
    d6 = drops.record_drop(
        s, officer, clan.id, kill_id=k3.id, name="Crossbow", holder_character_id=cy
    )
    drops.list_drop(s, u["cy"].id, clan.id, d6.id, 500, now=at(13))
    drops.record_drop(s, officer, clan.id, kill_id=k3.id, name="Helm", holder_character_id=dee)

    # Balances by hand, from the current entries (every superseded one is reversed):
    #   D1: Ami -950 + 190, Lia 190, Oto 285, Bo 190, fund 95
    #   D2: Lia -1650 + 371, Lia/Oto/Cy/Dee 371 each (+1 to `extra`), fund 165
    #   D3: Bo -400 + 80, Lia 80, Oto 120, Ami 80, fund 40
    #   D5: Bo -2755 + 709, Ami 1063, Cy 354, Dee 354, fund 275
    expected = {
        ("member", lia): 190 - 1650 + 371 + 80,  # -1009
        ("member", oto): 285 + 371 + 120,  # 776
        ("member", ami): -950 + 190 + 80 + 1063,  # 383
        ("member", bo): 190 - 400 + 80 - 2755 + 709,  # -2176
        ("member", cy): 371 + 354,  # 725
        ("member", dee): 371 + 354,  # 725
        ("fund", None): 95 + 165 + 40 + 275,  # 575
    }
    expected[("member", extra)] += 1
    balances = member_balances(s, clan.id)
    assert {k: v for k, v in balances.items() if v} == expected
    assert sum(balances.values()) == 0
    for entry_total in s.execute(
        select(func.sum(Posting.amount)).group_by(Posting.entry_id)
    ).scalars():
        assert entry_total == 0

    # Double submits and bad sales post nothing more.
    entries = s.execute(select(func.count(JournalEntry.id))).scalar_one()
    with pytest.raises(Exception, match=r"(?i)already"):
        sales.record_sale(s, u["bo"].id, clan.id, d5.id, received=2755, now=at(13))
    assert s.execute(select(func.count(JournalEntry.id))).scalar_one() == entries

    _check_statements(clan, u, c, expected, extra)
    _check_dashboard(clan, u, c, expected)


def _check_statements(clan, u, c, expected, extra):
    s = db.session
    ami = c["Ami"].id
    period_id = s.execute(select(JournalEntry.period_id).limit(1)).scalar_one()
    stmt = statements.statement(s, u["ami"].id, clan.id, period_id=period_id)
    assert stmt.balance == expected[("member", ami)] == 383
    assert stmt.lines[-1].running == 383
    assert [line.source.item_name for line in stmt.lines[:2]] == ["Sword", "Sword"]
    assert [line.role for line in stmt.lines[:2]] == ["sale_received", "share"]
    assert stmt.lines[0].source.boss_name == "Antharas"
    reversals = [line for line in stmt.lines if line.kind.value == "reversal"]
    assert {r.reason for r in reversals} == {"Bo arrived on time", "typo"}
    with pytest.raises(PermissionDenied):
        statements.statement(s, u["ami"].id, clan.id, c["Bo"].id, period_id)
    bo_stmt = statements.statement(s, u["oto"].id, clan.id, c["Bo"].id, period_id)
    assert bo_stmt.balance == -2176
    dee_stmt = statements.statement(s, u["dee"].id, clan.id, period_id=period_id)
    assert {ch.name for ch in dee_stmt.characters} == {"Dee", "Dee2"}
    assert dee_stmt.balance == 725 + (1 if extra == c["Dee"].id else 0)

    _, explained = statements.explain(s, u["ami"].id, clan.id, ami, period_id)
    slayer = [e for e in explained if e.source.item_name == "Slayer" and e.kind.value == "sale"]
    assert slayer[-1].total_weight == Fraction(7, 2)
    mine = next(p for p in slayer[-1].postings if p.is_mine)
    assert (mine.amount, mine.weight) == (1063, Fraction(3, 2))
    assert all(sum(p.amount for p in e.postings) == 0 for e in explained)


def _check_dashboard(clan, u, c, expected):
    board = dashboard.dashboard(db.session, u["ami"].id, clan.id, now=at(14))
    assert board.fund_balance == 575
    assert board.my_balance == 383
    assert [h.name for h in board.holdings[:2]] == ["Cy", "Dee"]  # oldest item first
    assert [d.name for d in board.holdings[0].items] == ["Crossbow"]
    held = {h.name: h.diamonds_held for h in board.holdings}
    assert held["Bo"] == 2176 and held["Lia"] == -expected[("member", c["Lia"].id)]
    assert (board.sales.count, board.sales.gross, board.sales.received) == (3, 5800, 5355)
    assert (board.sales.internal_count, board.sales.internal_total) == (1, 400)
    assert board.sales.fund_cut == 575 and board.sales.distributed == 5355 + 400 - 575
    assert board.sales.mismatches == 2  # D2 (1650 vs 1656) and D5 after correction
    counts = {bar.label: bar.value for bar in board.attendance}
    assert counts == {"Lia": 3, "Oto": 2, "Ami": 3, "Bo": 2, "Cy": 2, "Dee": 2}
    assert board.kills_count == 4
    assert sum(bar.value for bar in board.sales_by_day) == 5355 + 400
    # Netting: the dashboard shows the close preview's figure for the same period. Paying
    # every share of the standing sales at once, one payment per receiver and sale (the fund's
    # cut goes to the treasurer Lia, the leader's character, in the same payment as her own
    # share): D1 Ami pays Lia (share + fund), Oto, Bo: 3; D2 Lia pays Oto, Cy, Dee (her own
    # share and the fund's cut stay with her): 3; D3 Bo pays Lia (share + fund), Oto, Ami: 3;
    # D5 Bo pays Ami, Cy, Dee and the fund's cut to Lia: 4. The reversed D1, D3 and D5
    # entries count for nothing: 13 transfers, against at most 5 for the 6 netted balances.
    from clanledger.models import Period
    from clanledger.services.close import build_preview

    assert board.savings is not None, board.savings_error
    preview = build_preview(db.session, clan, db.session.get(Period, board.period.id))
    assert board.savings == preview.savings
    assert board.savings.per_sale_transfers == 13
    assert board.savings.plan_transfers <= 5
    assert board.savings.saved > 0
    assert db.session.get(Drop, board.holdings[0].items[0].id).status == DropStatus.LISTED
