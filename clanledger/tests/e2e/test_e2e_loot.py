"""The daily loot workflow in a real browser (Debian chromium through Playwright).

An officer records a kill with five participants on a phone, a member checks in with the
kill's code, the officer records a drop, lists it and records the sale, and the member reads
their statement and its explanation. Screenshots in zh_Hant (the default) and English are
saved under ``clanledger/artifacts/``.
"""

from __future__ import annotations

import re

import pytest

from clanledger.extensions import db
from clanledger.models import Kill, Role, Sale
from clanledger.services import bosses

pytestmark = pytest.mark.browser

PASSWORD = "correct horse 42"  # tests/conftest.py's TEST_PASSWORD


def sign_in(page, username: str) -> None:
    page.goto("/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=username]) [type=submit]").click()
    page.wait_for_load_state()


def switch_language(page, locale: str) -> None:
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():  # phone: the language buttons are in the collapsed menu
        toggler.click()
    page.locator(f"button[name=locale][value={locale}]").first.click()
    page.wait_for_load_state()


@pytest.fixture
def raid_clan(make_user, make_clan, add_member, make_character):
    officer, member = make_user("raidlead"), make_user("ami")
    clan = make_clan(leader=officer, name="星辰血盟", caller_bonus="1/2")
    add_member(clan, member, Role.MEMBER)
    make_character(clan, officer, "龍騎阿明", "龍騎士")
    ami = make_character(clan, member, "小艾", "妖精")
    for name, cls in [
        ("黑妖小華", "黑暗妖精"),
        ("法師阿強", "法師"),
        ("王族老K", "王族"),
        ("騎士阿德", "騎士"),
        ("幻術小美", "幻術士"),
    ]:
        make_character(clan, None, name, cls)
    bosses.add_boss(db.session, officer.id, clan.id, "安塔瑞斯")
    return clan, officer, member, ami


def test_officer_records_kill_drop_sale_and_member_reads_statement(raid_clan, new_page, screenshot):
    clan, _, _, ami = raid_clan
    phone = {"width": 390, "height": 844}
    lead = new_page(phone, is_mobile=True, has_touch=True)
    sign_in(lead, "raidlead")

    # The officer records the kill on a phone: search, tick, one half share, caller.
    lead.goto(f"/clans/{clan.id}/kills/new")
    assert "登記擊殺" in lead.inner_text("main")  # zh_Hant is the default
    search = lead.locator("[data-picker-search]")
    for name in ("龍騎", "黑妖", "法師", "老K"):
        search.fill(name)
        search.press("Enter")  # ticks the one row shown
    search.fill("騎士阿德")
    lead.locator("li:visible [data-weight='1/2']").click()  # ticks it with half a share
    search.fill("")
    assert lead.locator("[data-picker-count]").inner_text() == "5"
    lead.select_option("select[name=caller]", label="龍騎阿明")
    screenshot(lead, "loot-kill-form-zh_Hant")
    lead.locator("#kill-form [type=submit]").click()
    lead.wait_for_url(re.compile(r"/kills/\d+$"))
    code = lead.locator("#checkin-code").inner_text().strip()
    assert len(code) == 4
    screenshot(lead, "loot-kill-zh_Hant")

    # The member checks in with the code from the clan home page.
    me = new_page(phone, is_mobile=True, has_touch=True)
    sign_in(me, "ami")
    me.goto(f"/clans/{clan.id}/")
    me.fill("#checkin-card input[name=code]", code.lower())
    me.locator("#checkin-card [type=submit]").click()
    me.wait_for_url(re.compile(r"/kills/\d+$"))
    assert "小艾" in me.locator("#roll-call").inner_text()

    # Back to the officer: a drop, a listing at 1,000 and the sale (950 received).
    lead.reload()
    assert lead.locator("#roll-call li").count() == 6
    lead.fill("input[name=name]", "屠龍劍")
    lead.fill("input[name=grade]", "傳說")
    lead.select_option("select[name=holder_character_id]", label="黑妖小華")
    lead.locator("form[action$='/drops'] [type=submit]").click()
    lead.wait_for_url(re.compile(r"/drops/\d+$"))
    lead.fill("input[name=asking_price]", "1000")
    lead.locator("form[action$='/list'] [type=submit]").click()
    lead.wait_for_url(re.compile(r"/drops/\d+$"))
    sell_price = "form[action$='/sell'] input[name=gross_price]"
    assert lead.locator("[data-expected-amount]").inner_text() == "950"  # 5 % fee
    lead.fill(sell_price, "2000")  # the expected amount follows the price as it is typed
    assert lead.locator("[data-expected-amount]").inner_text() == "1,900"
    lead.fill(sell_price, "1000")
    lead.fill("form[action$='/sell'] input[name=received]", "950")
    lead.locator("form[action$='/sell'] [type=submit]").click()
    lead.wait_for_selector("#sale")
    screenshot(lead, "loot-sale-zh_Hant")

    kill = db.session.execute(db.select(Kill)).scalar_one()
    assert {str(a.weight) for a in kill.attendance} == {"1", "1/2"}
    sale = db.session.execute(db.select(Sale)).scalar_one()
    assert (sale.received, sale.expected_received) == (950, 950)

    # The member's statement: one share of the sale.
    # fund 95; 855 by weights 1 + 1/2 (caller), 1, 1, 1, 1/2, 1 (Ami) = 6 -> Ami 142.5 -> 142
    # or 143 by the largest remainder rule; the explanation shows the whole split.
    me.goto(f"/clans/{clan.id}/statement")
    balance = int(re.sub(r"[^\d-]", "", me.locator("#balance").inner_text()))
    assert balance in (142, 143)
    screenshot(me, "loot-statement-zh_Hant")
    assert "屠龍劍" in me.locator("#statement").inner_text()  # linked to its item
    me.goto(f"/clans/{clan.id}/statement/{ami.id}/explain")
    assert "屠龍劍" in me.inner_text("main")
    screenshot(me, "loot-explain-zh_Hant")

    # English.
    switch_language(me, "en")
    assert "Why is the balance" in me.inner_text("main")
    screenshot(me, "loot-explain-en")
    me.goto(f"/clans/{clan.id}/statement")
    assert "Balance" in me.inner_text("main")
    screenshot(me, "loot-statement-en")
    lead.goto(f"/clans/{clan.id}/")
    screenshot(lead, "loot-dashboard-zh_Hant")
    switch_language(lead, "en")
    assert "Who holds what" in lead.inner_text("main")
    screenshot(lead, "loot-dashboard-en")
