"""Fast entry on a phone (390 x 844): type an amount, tap a category chip, tap save (three
taps), and find the expense in the month's transactions list and in the month report."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from test_e2e_loot import sign_in

from clanledger.extensions import db
from clanledger.services.book import accounts

pytestmark = pytest.mark.browser

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_expense_in_three_taps_after_the_amount(make_user, live_server, phone_page, screenshot):
    user = make_user(locale="zh_Hant")
    accounts.ensure_book(db.session, user.id)
    db.session.commit()
    page = phone_page
    sign_in(page, user.username)
    page.goto("/book/add")
    amount = page.locator("#amount")
    expect(amount).to_be_focused()
    assert amount.get_attribute("inputmode") == "decimal"
    amount.fill("185")
    screenshot(page, "book-add-phone")
    assert page.evaluate(OVERFLOW) <= 0, "nothing overflows at 390 px"
    page.locator("label.book-chip", has_text="午餐").first.tap()  # tap 1 (the "all" list is open)
    page.locator("#book-save").tap()  # tap 2
    page.wait_for_load_state()
    expect(page.locator(".alert-success")).to_contain_text("185")
    expect(page.locator(".alert-success button.book-undo")).to_be_visible()
    page.goto("/book/transactions")
    row = page.locator(".book-list .list-group-item").first
    expect(row).to_contain_text("餐飲 › 午餐")
    expect(row).to_contain_text("-185")
    assert page.evaluate(OVERFLOW) <= 0
    screenshot(page, "book-transactions-phone")
    # The month report counts it: the month's spending and the category's row.
    page.goto("/book/reports")
    expect(page.locator("#total-spending")).to_have_text("185")
    expect(page.locator("#category-table")).to_contain_text("餐飲")
    expect(page.locator("#category-table")).to_contain_text("185")
    assert page.evaluate(OVERFLOW) <= 0
    screenshot(page, "book-report-phone")
    # The next entry offers the category just used first.
    page.goto("/book/add")
    expect(page.locator("[aria-label='最近使用'] label.book-chip").first).to_contain_text("午餐")
    screenshot(page, "book-add-recent-phone")
    page.goto("/book")
    assert page.evaluate(OVERFLOW) <= 0
    screenshot(page, "book-home-phone")
