"""The month-end close in a real browser: an officer reviews the plan (its saving and the
"why" of a transfer) and closes March; the payer marks a transfer paid from the dashboard's
to-do; the receiver confirms it; a member opens the printable statement. Screenshots of the
plan and the statement are saved under ``clanledger/artifacts/``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from clanledger.extensions import db
from clanledger.models import Period, PeriodStatus, Role, Transfer, TransferStatus
from clanledger.services import bosses, kills, sales
from clanledger.services.drops import list_drop, record_drop
from clanledger.services.periods import period_for_day

pytestmark = pytest.mark.browser

PASSWORD = "correct horse 42"  # tests/conftest.py's TEST_PASSWORD


def sign_in(page, username: str) -> None:
    page.goto("/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=username]) [type=submit]").click()
    page.wait_for_load_state()


@pytest.fixture
def march(make_user, make_clan, add_member, make_character):
    """Three sales in March 2026: the plan is B -> A 737, D -> C 1,074, D -> E 85 and
    netting saves 26 diamonds (see tests/integration/test_close_month.py)."""
    leader, officer = make_user("clanlead"), make_user("officer1")
    players = {n: make_user(f"player{n}") for n in "BCDE"}
    clan = make_clan(leader=leader, name="星辰血盟")
    add_member(clan, officer, Role.OFFICER)
    for user in players.values():
        add_member(clan, user)
    ids = {"A": make_character(clan, leader, "龍騎阿明").id}
    names = {"B": "黑妖小華", "C": "法師阿強", "D": "王族老K", "E": "妖精小艾"}
    ids |= {n: make_character(clan, players[n], names[n]).id for n in "BCDE"}
    boss = bosses.add_boss(db.session, officer.id, clan.id, "安塔瑞斯").id

    def sale(day: int, holder: str, weights: dict[str, str], received: int) -> None:
        when = datetime(2026, 3, day, 12, tzinfo=UTC)
        kill = kills.record_kill(
            db.session,
            officer.id,
            clan.id,
            boss_id=boss,
            killed_at=when,
            participants={ids[n]: w for n, w in weights.items()},
            now=when,
        )
        drop = record_drop(
            db.session,
            officer.id,
            clan.id,
            kill_id=kill.id,
            name="屠龍劍",
            holder_character_id=ids[holder],
        ).id
        list_drop(db.session, officer.id, clan.id, drop, asking_price=received + 60, now=when)
        sales.record_sale(
            db.session, officer.id, clan.id, drop, received=received, sold_at=when, now=when
        )

    sale(3, "B", {"A": "1", "B": "1", "C": "1"}, 1000)
    sale(10, "D", {"C": "1", "D": "1", "E": "1/2"}, 2000)
    sale(20, "E", {"A": "2/5", "D": "1"}, 280)
    period = period_for_day(db.session, db.session.get(type(clan), clan.id), date(2026, 3, 1))
    db.session.commit()
    return clan.id, period.id, ids


def test_close_plan_paid_confirmed(march, new_page, screenshot):
    clan_id, period_id, ids = march

    lead = new_page()
    sign_in(lead, "officer1")
    lead.goto(f"/clans/{clan_id}/periods")
    lead.locator(f"a[href='/clans/{clan_id}/periods/{period_id}']").click()
    lead.wait_for_load_state()
    assert lead.locator("[data-testid=saved]").inner_text() == "26"
    lead.locator("a[href='#why-1']").first.click()
    assert "黑妖小華" in lead.locator("#why-1").inner_text()  # B's debt and A's credit
    screenshot(lead, "close-plan-zh_Hant")
    lead.check("#confirmed")  # the tick box restates the month, transfers and total
    lead.locator("form[action$='/close'] [type=submit]").click()
    lead.wait_for_load_state()
    db.session.expire_all()
    assert db.session.get(Period, period_id).status == PeriodStatus.CLOSED
    screenshot(lead, "close-plan-closed-zh_Hant")

    payer = new_page()
    sign_in(payer, "playerB")
    payer.goto(f"/clans/{clan_id}/")
    todo = payer.locator("section[aria-labelledby=todo-title]")
    assert "737" in todo.inner_text()
    todo.locator("a").click()
    payer.wait_for_load_state()
    payer.locator("form[action$='/paid'] [type=submit]").click()
    payer.wait_for_load_state()
    transfer = db.session.query(Transfer).filter_by(payer_character_id=ids["B"]).one()
    db.session.refresh(transfer)
    assert transfer.status == TransferStatus.PAID and transfer.paid_gross == 737

    receiver = new_page()
    sign_in(receiver, "clanlead")
    receiver.goto(f"/clans/{clan_id}/transfers")
    receiver.locator(f"form[action$='/transfers/{transfer.id}/confirm'] [type=submit]").click()
    receiver.wait_for_load_state()
    db.session.refresh(transfer)
    assert transfer.status == TransferStatus.CONFIRMED
    screenshot(receiver, "close-transfers-zh_Hant")

    member = new_page()
    sign_in(member, "playerD")
    member.goto(f"/clans/{clan_id}/export/statement/print?period={period_id}")
    totals = member.locator("#statement-totals").inner_text()
    assert "-1,100" in totals and "900" in totals and "-2,000" in totals
    screenshot(member, "close-statement-print-zh_Hant")
