"""Phone ergonomics in a real browser: tap targets, colour mode, install icons, navigation
that neither wraps nor clips, in both languages."""

from __future__ import annotations

import json

import pytest
import test_e2e_loot
from playwright.sync_api import expect
from test_e2e_loot import sign_in, switch_language

pytestmark = pytest.mark.browser
raid_clan = test_e2e_loot.raid_clan  # the loot tests' clan: an officer, a member, a roster

# Interactive elements that must be at least 44 x 44 px on a touch screen (WCAG 2.5.5);
# links inside running text are exempt, as the criterion allows.
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'button, .btn, .nav-link, .form-control, .form-select, .form-check-input, .page-link, '
    + '.list-group-item-action, table a')]
  .filter(el => el.offsetParent !== null)
  .map(el => {
    // A checkbox's target includes its label: their bounding box together.
    const boxes = [el, ...(el.labels || [])].map(e => e.getBoundingClientRect());
    const left = Math.min(...boxes.map(b => b.left)), right = Math.max(...boxes.map(b => b.right));
    const top = Math.min(...boxes.map(b => b.top)), bottom = Math.max(...boxes.map(b => b.bottom));
    return {what: el.outerHTML.slice(0, 80), w: right - left, h: bottom - top};
  })
  .filter(t => t.h < 43.5 || t.w < 43.5)"""


def _pages(clan_id: int) -> list[str]:
    return [f"/clans/{clan_id}/", f"/clans/{clan_id}/drops", f"/clans/{clan_id}/kills/new"]


@pytest.mark.parametrize("locale", ["zh_Hant", "en"])
def test_phone_pages_have_44px_targets_in_the_devices_colour_mode(
    raid_clan,
    new_page,
    screenshot,
    locale,
):
    clan, officer, _, _ = raid_clan
    phone = {"width": 390, "height": 844}
    lead = new_page(phone, is_mobile=True, has_touch=True, color_scheme="dark")
    sign_in(lead, officer.username)
    if locale == "en":
        switch_language(lead, "en")
    for path in _pages(clan.id):
        lead.goto(path)
        assert lead.evaluate("document.documentElement.dataset.bsTheme") == "dark"
        small = lead.evaluate(SMALL_TARGETS)
        assert small == [], f"{path}: targets under 44 px: {small[:5]}"
        nav = lead.locator(".clan-nav .nav")
        assert nav.evaluate("ul => ul.getBoundingClientRect().height") < 60  # one row
    screenshot(lead, f"phone-dark-items-{locale}")


def test_wide_navigation_stays_on_one_row_in_english(raid_clan, new_page):
    clan, officer, _, _ = raid_clan
    page = new_page({"width": 1366, "height": 900})
    sign_in(page, officer.username)
    switch_language(page, "en")
    page.goto(f"/clans/{clan.id}/")
    nav = page.locator(".clan-nav .nav")
    widths = nav.evaluate("ul => [ul.scrollWidth, ul.clientWidth]")
    assert widths[0] <= widths[1] + 1, f"the clan menu overflows at 1366 px: {widths}"
    assert nav.evaluate("ul => ul.getBoundingClientRect().height") < 60


def test_the_app_can_be_installed_on_a_home_screen(raid_clan, new_page):
    page = new_page()
    page.goto("/auth/login")
    href = page.locator("link[rel=manifest]").get_attribute("href")
    manifest = json.loads(page.request.get(href).text())
    assert manifest["display"] == "standalone" and manifest["short_name"]
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert page.request.get(f"/static/{icon['src']}").ok
    assert page.request.get(page.locator("link[rel=icon]").get_attribute("href")).ok


def test_long_lists_can_be_searched_in_place(raid_clan, new_page):
    clan, officer, _, _ = raid_clan
    page = new_page({"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    sign_in(page, officer.username)
    page.goto(f"/clans/{clan.id}/characters")
    rows = page.locator("#roster tbody tr")
    total = rows.count()
    assert total >= 7 and page.locator("#roster-count").inner_text() == str(total)
    page.fill("input[data-filter='#roster tbody tr']", "法師")
    expect(page.locator("#roster-count")).to_have_text("1")  # the count follows the search
    visible = [r for r in rows.all() if r.is_visible()]
    assert len(visible) == 1 and "法師阿強" in visible[0].inner_text()
    page.fill("input[data-filter='#roster tbody tr']", "")
    expect(page.locator("#roster-count")).to_have_text(str(total))
