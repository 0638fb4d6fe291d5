"""Wallets and the member's month plan on a phone (390 x 844, Traditional Chinese): a player
groups their alt with their main, then reads what they will receive before the close."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from test_e2e_loot import sign_in
from test_e2e_phone import SMALL_TARGETS

from clanledger.extensions import db
from clanledger.models import EntryKind, Role
from clanledger.services.journal import PostingLine, post_entry
from clanledger.services.periods import period_for_day

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
MARCH_10 = datetime(2026, 3, 10, 4, tzinfo=UTC)


@pytest.fixture
def purse_clan(make_user, make_clan, add_member, make_character):
    leader, wind, star = make_user("leader"), make_user("wind"), make_user("star")
    clan = make_clan(leader=leader, name="星辰血盟")
    add_member(clan, wind)
    add_member(clan, star, Role.MEMBER)
    chars = [
        make_character(clan, wind, "夜風"),
        make_character(clan, wind, "夜風二號"),
        make_character(clan, star, "星辰"),
    ]
    post_entry(
        db.session,
        clan,
        kind=EntryKind.ADJUSTMENT,
        lines=[
            PostingLine("member", c.id, a) for c, a in zip(chars, (-3705, 5000, -1295), strict=True)
        ],
        occurred_at=MARCH_10,
        actor_id=leader.id,
        memo="balances of the month",
        period=period_for_day(db.session, clan, MARCH_10.date()),
    )
    db.session.commit()
    return clan, wind


def test_a_player_shares_a_wallet_and_reads_the_plan_on_a_phone(purse_clan, new_page, screenshot):
    clan, wind = purse_clan
    phone = new_page(PHONE, is_mobile=True, has_touch=True)
    sign_in(phone, wind.username)
    phone.goto(f"/clans/{clan.id}/characters")
    phone.locator("#wallets-link").click()
    phone.wait_for_load_state()
    phone.get_by_label("夜風", exact=True).check()
    phone.get_by_label("夜風二號", exact=True).check()
    phone.get_by_role("button", name="共用一個錢包").click()
    phone.wait_for_load_state()
    assert "這些角色現在共用一個錢包" in phone.content()
    assert phone.evaluate(SMALL_TARGETS) == []
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(phone, "phone-wallets-zh_Hant")

    phone.goto(f"/clans/{clan.id}/")
    phone.locator("#month-plan-link").click()
    phone.wait_for_load_state()
    text = phone.locator("main").inner_text()
    assert "你用 夜風二號 收款" in text and "1,364" in text  # listed at 1,364, 星辰 buys it
    assert "錢包內沖帳" in text and "3,705" in text  # 夜風's balance moves onto 夜風二號
    phone.get_by_text("為什麼？").click()
    assert "2 筆可以互相抵銷的餘額" in phone.locator("main").inner_text()
    assert phone.evaluate(SMALL_TARGETS) == []
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(phone, "phone-month-plan-zh_Hant")


def test_the_close_page_shows_what_the_wallets_save(purse_clan, new_page, screenshot):
    clan, wind = purse_clan
    from_leader = new_page(PHONE, is_mobile=True, has_touch=True)
    sign_in(from_leader, "leader")
    from_leader.goto(f"/clans/{clan.id}/wallets")
    from_leader.locator(f"#player-{wind.id}").get_by_label("夜風", exact=True).check()
    from_leader.locator(f"#player-{wind.id}").get_by_label("夜風二號", exact=True).check()
    from_leader.locator(f"#player-{wind.id}").get_by_role("button", name="共用一個錢包").click()
    from_leader.wait_for_load_state()
    from_leader.goto(f"/clans/{clan.id}/plan")
    from_leader.get_by_role("link", name="檢查並月結").click()
    from_leader.wait_for_load_state()
    saving = from_leader.locator("#wallet-saving").inner_text()
    assert "手續費 195" in saving and "1 筆轉帳" in saving
    assert from_leader.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(from_leader, "phone-close-wallets-zh_Hant")
