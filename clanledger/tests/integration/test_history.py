"""A scripted year, from November 2025 to January 2026, checked against figures worked out
by hand.

Clan (Asia/Taipei, UTC+8): 5 % exchange fee, 10 % fund cut, the payer grosses up.
Characters A (the leader's, so the treasurer), B, C. Bosses X and Y.

  K1  2025-11-10  X  A B C    屠龍 held by B, sold for 900: fund 90, shares 270 each
  K2  2025-11-20  Y  A B C    魔法書 held by C, sold for 600: fund 60, shares 180 each
  K3  2025-12-05  X  B        藥水 held by A, bought by B for 500: fund 50, B's share 450
  K4  2025-12-20  Y  A B      金幣袋 held by C, not sold
  K5  2025-12-31 17:00 UTC = 2026-01-01 01:00 in Taipei, X, A C
                              屠龍 held by C, sold 18:00 UTC (January in Taipei) for 2000:
                              fund 200, shares 900 each

November's balances: A 270 + 180 = 450, B -900 + 270 + 180 = -450, C 270 - 600 + 180 = -150,
fund 150 (to the treasurer A: A 600). The close plans B -> A 450 (gross ceil(450 / 0.95) =
474, fee 24) and C -> A 150 (gross 158, fee 8): 32 in fees. Paying each sale at once: B -> A
360 (379, fee 19), B -> C 270 (285, 15), C -> A 240 (253, 13), C -> B 180 (190, 10): 57. Netting
saves 57 - 32 = 25 diamonds. Both transfers are paid and confirmed.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from test_loot_queries import add_raid, counting

from clanledger.extensions import db
from clanledger.models import Role
from clanledger.services import bosses, close, kills, sales, transfers, trends, year_review
from clanledger.services.drops import list_drop, record_drop
from clanledger.services.errors import NotFound, PermissionDenied, ValidationError
from clanledger.services.periods import period_for_day

NOW = datetime(2026, 1, 20, 4, tzinfo=UTC)


@pytest.fixture
def year(make_user, make_clan, add_member, make_character):
    leader, officer = make_user("leader"), make_user("officer")
    players = {n: make_user(f"p{n}") for n in "BC"}
    clan = make_clan(leader=leader, rates_from=date(2025, 1, 1))
    add_member(clan, officer, Role.OFFICER)
    for user in players.values():
        add_member(clan, user)
    ids = {"A": make_character(clan, leader, "A").id}
    ids.update({n: make_character(clan, u, n).id for n, u in players.items()})
    boss = {
        "X": bosses.add_boss(db.session, officer.id, clan.id, "安塔瑞斯").id,
        "Y": bosses.add_boss(db.session, officer.id, clan.id, "法利昂").id,
    }

    def kill(when: datetime, name: str, present: str) -> int:
        return kills.record_kill(
            db.session,
            officer.id,
            clan.id,
            boss_id=boss[name],
            killed_at=when,
            participants={ids[n]: "1" for n in present},
            now=when,
        ).id

    def drop(kill_id: int, item: str, holder: str) -> int:
        return record_drop(
            db.session,
            officer.id,
            clan.id,
            kill_id=kill_id,
            name=item,
            holder_character_id=ids[holder],
        ).id

    def sell(kill_id: int, item: str, holder: str, received: int, sold_at: datetime) -> None:
        drop_id = drop(kill_id, item, holder)
        list_drop(
            db.session, officer.id, clan.id, drop_id, asking_price=received + 100, now=sold_at
        )
        sales.record_sale(
            db.session,
            officer.id,
            clan.id,
            drop_id,
            received=received,
            sold_at=sold_at,
            now=sold_at,
        )

    k1 = kill(datetime(2025, 11, 10, 12, tzinfo=UTC), "X", "ABC")
    sell(k1, "屠龍", "B", 900, datetime(2025, 11, 10, 14, tzinfo=UTC))
    k2 = kill(datetime(2025, 11, 20, 12, tzinfo=UTC), "Y", "ABC")
    sell(k2, "魔法書", "C", 600, datetime(2025, 11, 20, 14, tzinfo=UTC))

    november = period_for_day(db.session, clan, date(2025, 11, 1))
    db.session.commit()
    preview = close.preview_close(db.session, officer.id, clan.id, november.id)
    close.confirm_close(db.session, officer.id, clan.id, november.id, preview.digest, now=NOW)
    for row in transfers.list_transfers(db.session, officer.id, clan.id):
        payer = players[row.payer]
        transfers.mark_paid(db.session, payer.id, clan.id, row.transfer.id)
        transfers.confirm_received(db.session, leader.id, clan.id, row.transfer.id)

    k3 = kill(datetime(2025, 12, 5, 12, tzinfo=UTC), "X", "B")
    potion = drop(k3, "藥水", "A")
    sales.record_internal_purchase(
        db.session,
        officer.id,
        clan.id,
        potion,
        buyer_character_id=ids["B"],
        price=500,
        now=datetime(2025, 12, 5, 13, tzinfo=UTC),
    )
    k4 = kill(datetime(2025, 12, 20, 12, tzinfo=UTC), "Y", "AB")
    drop(k4, "金幣袋", "C")
    k5 = kill(datetime(2025, 12, 31, 17, tzinfo=UTC), "X", "AC")
    sell(k5, "屠龍", "C", 2000, datetime(2025, 12, 31, 18, tzinfo=UTC))
    return {"clan": clan, "leader": leader, "officer": officer, "players": players, "ids": ids}


def test_clan_history_by_hand(year):
    history = trends.clan_history(db.session, year["players"]["B"].id, year["clan"].id, NOW)
    income = {f.month: (f.value, f.count) for f in history.income if f.value}
    assert income == {
        date(2025, 11, 1): (1500, 2),
        date(2025, 12, 1): (500, 1),
        date(2026, 1, 1): (2000, 1),  # sold on New Year's Eve in UTC, New Year's Day locally
    }
    assert [f.month for f in history.income] == [date(2025, m, 1) for m in range(2, 13)] + [
        date(2026, 1, 1)
    ]
    assert [(b.label, b.value, b.count) for b in history.bosses] == [
        ("安塔瑞斯", 900 + 500 + 2000, 3),
        ("法利昂", 600, 1),
    ]
    assert [(i.label, i.value, i.count) for i in history.items] == [
        ("屠龍", 2900, 2),
        ("魔法書", 600, 1),
        ("藥水", 500, 1),
    ]
    # 150 at the end of November; +50 in December; +200 in January.
    assert [f.month for f in history.fund] == [f.month for f in history.income]
    assert [(f.month, f.value) for f in history.fund if f.value] == [
        (date(2025, 11, 1), 150),
        (date(2025, 12, 1), 200),
        (date(2026, 1, 1), 400),
    ]
    # Closing December moves the fund's 200 into January as an opening: still 400.
    december = period_for_day(db.session, year["clan"], date(2025, 12, 1))
    preview = close.preview_close(db.session, year["officer"].id, year["clan"].id, december.id)
    close.confirm_close(
        db.session, year["officer"].id, year["clan"].id, december.id, preview.digest, now=NOW
    )
    again = trends.clan_history(db.session, year["players"]["B"].id, year["clan"].id, NOW)
    assert [f.value for f in again.fund][-3:] == [150, 200, 400]
    assert again.closes == 2 and again.saved == 25 + preview.savings.saved
    assert (history.saved, history.closes) == (25, 1)


def test_year_in_review_by_hand(year):
    clan, member = year["clan"], year["players"]["C"]
    review = year_review.year_review(db.session, member.id, clan.id, 2025, NOW)
    assert review.years == [2026, 2025]
    assert (review.total_income, review.sales, review.kills) == (2000, 3, 4)
    assert [(b.label, b.value) for b in review.bosses] == [("安塔瑞斯", 1400), ("法利昂", 600)]
    assert (review.best_sale.item, review.best_sale.received) == ("屠龍", 900)
    assert review.best_sale.boss == "安塔瑞斯"
    # Present: K1 A B C, K2 A B C, K3 B, K4 A B.
    assert [(r.label, r.value) for r in review.attendance] == [("B", 4), ("A", 3), ("C", 2)]
    assert (review.saved, review.closes) == (25, 1)

    january = year_review.year_review(db.session, member.id, clan.id, 2026, NOW)
    assert (january.total_income, january.kills, january.saved) == (2000, 1, 0)
    assert (january.best_sale.item, january.best_sale.received) == ("屠龍", 2000)
    assert [(r.label, r.value) for r in january.attendance] == [("A", 1), ("C", 1)]

    empty = year_review.year_review(db.session, member.id, clan.id, 2024, NOW)
    assert empty.is_empty and empty.best_sale is None and empty.total_income == 0
    assert year_review.year_review(db.session, member.id, clan.id, None, NOW).year == 2026


def test_member_history_by_hand(year):
    clan, ids = year["clan"], year["ids"]
    b = trends.member_history(db.session, year["players"]["B"].id, clan.id, ids["B"], NOW)
    months = {m.month: (m.earned, m.attended, m.kills) for m in b.months if m.kills or m.earned}
    assert months == {
        date(2025, 11, 1): (450, 2, 2),
        date(2025, 12, 1): (450, 2, 2),  # K5 is a January kill in Taipei
        date(2026, 1, 1): (0, 0, 1),
    }
    assert (b.earned, b.attended, b.kills, b.rate_percent) == (900, 4, 5, 80)
    assert (b.items_held, b.items_sold, b.sold_for) == (0, 1, 900)
    assert (b.transfers_paid, b.paid_total, b.transfers_received) == (1, 474, 0)

    a = trends.member_history(db.session, year["officer"].id, clan.id, ids["A"], NOW)
    assert (a.earned, a.attended, a.kills) == (450 + 900, 4, 5)
    assert (a.items_sold, a.sold_for) == (1, 500)  # 藥水, bought by B
    assert (a.transfers_received, a.received_total) == (2, 450 + 150)

    c = trends.member_history(db.session, year["leader"].id, clan.id, ids["C"], NOW)
    assert (c.items_held, c.items_sold, c.sold_for) == (1, 2, 2600)
    assert (c.transfers_paid, c.paid_total) == (1, 158)
    assert len(c.months) == 12 and c.months[-1].month == date(2026, 1, 1)


def test_member_pages_are_own_or_officer(year, make_clan, make_character):
    clan, ids, players = year["clan"], year["ids"], year["players"]
    with pytest.raises(PermissionDenied):
        trends.member_history(db.session, players["B"].id, clan.id, ids["C"], NOW)
    other = make_character(make_clan(), name="外人")
    with pytest.raises(NotFound):
        trends.member_history(db.session, year["leader"].id, clan.id, other.id, NOW)


@pytest.mark.parametrize("bad", [1999, 2101, 0, -1])
def test_a_year_out_of_range_is_refused(year, bad):
    with pytest.raises(ValidationError):
        year_review.year_review(db.session, year["leader"].id, year["clan"].id, bad, NOW)


def test_pages_show_the_figures_and_refuse_bad_years(year, login):
    client, clan = login(year["players"]["B"]), year["clan"]
    page = client.get(f"/clans/{clan.id}/history/year?year=2025")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="best-sale"' in text and "屠龍" in text and 'id="income-table"' in text
    empty = client.get(f"/clans/{clan.id}/history/year?year=2024").get_data(as_text=True)
    assert 'id="empty-year"' in empty
    for bad in ("abc", "20255", "1999", "%FF", "-1", "２０２５"):
        assert client.get(f"/clans/{clan.id}/history/year?year={bad}").status_code == 400
    history = client.get(f"/clans/{clan.id}/history")
    assert history.status_code == 200 and 'id="boss-table"' in history.get_data(as_text=True)
    dashboard = client.get(f"/clans/{clan.id}/").get_data(as_text=True)
    assert f'href="/clans/{clan.id}/history"' in dashboard
    own = client.get(f"/clans/{clan.id}/history/members/{year['ids']['B']}")
    assert own.status_code == 200 and 'id="member-months"' in own.get_data(as_text=True)
    other = client.get(f"/clans/{clan.id}/history/members/{year['ids']['C']}")
    assert other.status_code == 403


def test_statement_and_roster_link_to_the_member_history(year, login):
    clan, ids = year["clan"], year["ids"]
    member = login(year["players"]["B"])
    own = f"/clans/{clan.id}/history/members/{ids['B']}"
    other = f"/clans/{clan.id}/history/members/{ids['C']}"
    assert own in member.get(f"/clans/{clan.id}/statement").get_data(as_text=True)
    roster = member.get(f"/clans/{clan.id}/characters").get_data(as_text=True)
    assert own in roster and other not in roster
    officer = login(year["officer"])
    assert other in officer.get(f"/clans/{clan.id}/characters").get_data(as_text=True)


def test_history_exports_with_translated_headers(year, login, monkeypatch):
    monkeypatch.setattr("clanledger.services.trends.utcnow", lambda: NOW)
    clan, ids = year["clan"], year["ids"]
    client = login(year["players"]["B"])
    csv_text = (
        client.get(f"/clans/{clan.id}/export/history/{ids['B']}?format=csv")
        .get_data()
        .decode("utf-8-sig")
    )
    lines = csv_text.splitlines()
    assert lines[0] == "角色,月份,分得,出席擊殺,擊殺,出席率（%）"
    assert "B,2025-11,450,2,2,100" in lines and "B,2026-01,0,0,1,0" in lines
    assert len(lines) == 13
    workbook = load_workbook(
        io.BytesIO(client.get(f"/clans/{clan.id}/export/statement?format=xlsx").data)
    )
    sheet = workbook.worksheets[1]
    assert sheet.title == "歷程 B"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("角色", "月份", "分得") and ("B", "2025-12", 450, 2, 2, 100) in rows
    other = client.get(f"/clans/{clan.id}/export/history/{ids['C']}?format=csv")
    assert other.status_code == 403


def test_attendance_counts_kills_from_when_the_character_was_added(year, make_character):
    clan = year["clan"]
    late = make_character(clan, None, "D")
    late.created_at = datetime(2025, 12, 10, tzinfo=UTC)  # after K3, before K4
    db.session.commit()
    d = trends.member_history(db.session, year["officer"].id, clan.id, late.id, NOW)
    months = {m.month: (m.attended, m.kills) for m in d.months if m.kills}
    assert months == {date(2025, 12, 1): (0, 1), date(2026, 1, 1): (0, 1)}
    assert (d.rate_percent, d.earned) == (0, 0)


def test_history_pages_run_a_fixed_number_of_queries(year):
    clan, officer, ids = year["clan"], year["officer"], year["ids"]
    boss = bosses.add_boss(db.session, officer.id, clan.id, "巴風特").id

    def queries() -> list[int]:
        counts = []
        for read in (
            lambda: trends.clan_history(db.session, officer.id, clan.id),
            lambda: year_review.year_review(db.session, officer.id, clan.id, None),
            lambda: trends.member_history(db.session, officer.id, clan.id, ids["B"]),
        ):
            db.session.expire_all()
            with counting() as statements:
                read()
            counts.append(len(statements))
        return counts

    add_raid(officer.id, clan.id, boss, list(ids.values()))
    before = queries()
    for _ in range(3):
        add_raid(officer.id, clan.id, boss, list(ids.values()))
    assert queries() == before
