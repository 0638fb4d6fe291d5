"""The year in review on a phone (390 x 844), in Traditional Chinese, light and dark: the
highlights, the charts without sideways scrolling, their numbers as a table."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from test_e2e_loot import sign_in
from test_e2e_phone import SMALL_TARGETS

from clanledger.extensions import db
from clanledger.models import Role
from clanledger.services import bosses, close, kills, sales
from clanledger.services.drops import list_drop, record_drop
from clanledger.services.periods import period_for_day

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
# (month, day, boss, item, holder, diamonds received, who was there)
SALES_2025 = [
    (3, 8, "安塔瑞斯", "屠龍之劍", "阿明", 12_000, "阿明 小艾 阿德"),
    (3, 20, "法利昂", "魔法書", "小艾", 3_400, "阿明 小艾"),
    (8, 2, "林德拜爾", "巴拉卡斯之心", "阿德", 8_800, "阿明 小艾 阿德 小美"),
    (11, 22, "安塔瑞斯", "屠龍之劍", "小美", 15_500, "小艾 阿德 小美"),
    (12, 31, "法利昂", "藥水", "阿德", 600, "阿明 阿德"),
]


@pytest.fixture
def year_clan(make_user, make_clan, add_member, make_character):
    leader, member = make_user("raidlead"), make_user("ami")
    clan = make_clan(leader=leader, name="星辰血盟", rates_from=date(2025, 1, 1))
    add_member(clan, member, Role.MEMBER)
    ids = {"阿明": make_character(clan, leader, "阿明").id}
    ids["小艾"] = make_character(clan, member, "小艾").id
    ids.update({n: make_character(clan, None, n).id for n in ("阿德", "小美")})
    boss_ids = {}
    for month, day, boss, item, holder, received, present in SALES_2025:
        if boss not in boss_ids:
            boss_ids[boss] = bosses.add_boss(db.session, leader.id, clan.id, boss).id
        when = datetime(2025, month, day, 12, tzinfo=UTC)
        kill = kills.record_kill(
            db.session,
            leader.id,
            clan.id,
            boss_id=boss_ids[boss],
            killed_at=when,
            participants={ids[n]: "1" for n in present.split()},
            now=when,
        )
        drop = record_drop(
            db.session,
            leader.id,
            clan.id,
            kill_id=kill.id,
            name=item,
            holder_character_id=ids[holder],
        )
        list_drop(db.session, leader.id, clan.id, drop.id, asking_price=received + 500, now=when)
        sales.record_sale(db.session, leader.id, clan.id, drop.id, received=received, now=when)
    march = period_for_day(db.session, clan, date(2025, 3, 1))
    db.session.commit()
    preview = close.preview_close(db.session, leader.id, clan.id, march.id)
    close.confirm_close(db.session, leader.id, clan.id, march.id, preview.digest)
    return clan


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_year_in_review_on_a_phone(year_clan, new_page, screenshot, scheme):
    page = new_page(PHONE, is_mobile=True, has_touch=True, color_scheme=scheme)
    sign_in(page, "ami")
    page.goto(f"/clans/{year_clan.id}/history/year?year=2025")
    main = page.inner_text("main")
    assert "年度回顧" in main and "屠龍之劍" in main and "15,500" in main
    assert page.locator("#top-boss").inner_text().count("安塔瑞斯") == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate(SMALL_TARGETS) == []
    page.locator("#income-chart + details summary").click()
    assert page.locator("#income-table tbody tr").count() == 12
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, f"phone-{scheme}-year-in-review-zh_Hant")

    page.select_option("#year-select", "2026")
    page.wait_for_url("**year=2026")
    assert page.locator("#empty-year").is_visible()


def test_clan_and_member_history_fit_a_phone(year_clan, new_page, screenshot):
    page = new_page(PHONE, is_mobile=True, has_touch=True, color_scheme="dark")
    sign_in(page, "ami")
    page.goto(f"/clans/{year_clan.id}/statement")
    page.locator("#history-links a").first.click()
    page.locator("#member-months").wait_for()
    assert page.locator("#member-months tbody tr").count() == 12
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "phone-dark-member-history-zh_Hant")
    page.goto(f"/clans/{year_clan.id}/")
    page.locator("#history-link").click()
    page.locator("#boss-chart").wait_for()
    assert "安塔瑞斯" in page.locator("#boss-chart").text_content()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate(SMALL_TARGETS) == []
    screenshot(page, "phone-dark-clan-history-zh_Hant")
