"""Setting a clan up in a real browser: an officer pastes a roster on a phone, reads the
preview with its refused lines, imports the valid ones, then picks bosses from the list."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from test_e2e_loot import sign_in

from clanledger.extensions import db
from clanledger.models import Boss, Character

pytestmark = pytest.mark.browser

ROSTER = """角色,職業,玩家
龍騎阿明,龍騎士,raidlead
小艾,妖精
黑妖小華,黑暗妖精
法師阿強,法師,nobody
小艾,騎士
幻術小美,幻術士
B\u200bob,騎士
"""


@pytest.fixture
def new_clan(make_user, make_clan, make_character):
    officer = make_user("raidlead", display_name="阿明")
    clan = make_clan(leader=officer, name="星辰血盟")
    make_character(clan, officer, "黑妖小華", "黑暗妖精")
    return clan, officer


def _names(clan) -> list[str]:
    rows = db.session.execute(select(Character.name).where(Character.clan_id == clan.id))
    return sorted(rows.scalars())


def test_phone_roster_preview_then_valid_lines_then_bosses(new_clan, new_page, screenshot):
    clan, _officer = new_clan
    phone = new_page(
        {"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    sign_in(phone, "raidlead")
    phone.goto(f"/clans/{clan.id}/")
    checklist = phone.locator("#setup-checklist")
    assert checklist.locator("[data-item=roster]").get_attribute("data-done") == "no"
    checklist.locator("[data-item=roster]").click()
    phone.fill("textarea[name=roster]", ROSTER)
    phone.locator("button[value=preview]").click()
    phone.wait_for_load_state()
    errors = phone.locator("#roster-errors li").all_inner_texts()
    assert errors == [
        "第 4 行：黑妖小華 已經在血盟裡。",
        "第 5 行：血盟裡沒有叫 nobody 的成員。",
        "第 6 行：小艾 和第 3 行是同一個名字。",
        "第 8 行：名稱為 1 到 64 個字，不可含零寬空白等看不見的字元。",
    ]
    assert phone.locator("#roster-preview tbody tr").count() == 3
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the preview scrolls sideways ({width}px)"
    screenshot(phone, "phone-roster-import-preview-zh_Hant")
    assert _names(clan) == ["黑妖小華"]

    phone.locator("button[value=valid]").click()
    phone.wait_for_load_state()
    assert _names(clan) == sorted(["黑妖小華", "龍騎阿明", "小艾", "幻術小美"])

    phone.goto(f"/clans/{clan.id}/")
    assert checklist.locator("[data-item=roster]").get_attribute("data-done") == "yes"
    screenshot(phone, "phone-setup-checklist-zh_Hant")
    checklist.locator("[data-item=bosses]").click()
    phone.locator("input[value=kurtz]").check()
    phone.locator("input[value=antharas]").check()
    screenshot(phone, "phone-boss-list-zh_Hant")
    phone.locator("#boss-catalogue [type=submit]").click()
    phone.wait_for_load_state()
    bosses = db.session.execute(select(Boss.name).where(Boss.clan_id == clan.id)).scalars()
    assert sorted(bosses) == sorted(["克特", "安塔瑞斯"])
