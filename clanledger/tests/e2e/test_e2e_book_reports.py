"""Looking back (回顧) on a phone (390 x 844): the month report with its donut and bars, the
year report and the year in review fit the screen without sideways scrolling; the export
page offers the downloads. Screenshots go to clanledger/artifacts/."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from test_book_reports import script_year

WIDE = "document.scrollingElement.scrollWidth"


def test_reports_fit_a_phone(app, make_user, user_password, live_server, new_page, screenshot):
    user = make_user(locale="zh_Hant")
    script_year(user.id)
    phone = new_page({"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.goto("/auth/login")
    phone.fill("#username", user.username)
    phone.fill("#password", user_password)
    phone.click("#submit")
    phone.wait_for_url(live_server.url("/"))

    phone.goto("/book/reports?month=2025-01")
    assert phone.locator("#total-spending").inner_text() == "16,020"
    assert phone.locator("svg.book-donut circle").count() == 4  # the track and 3 slices
    assert phone.evaluate(WIDE) <= 390
    screenshot(phone, "book-reports-month-phone")

    phone.click("text=年度回顧")
    phone.wait_for_url("**/book/reports/review")
    phone.goto("/book/reports/review?year=2025")
    assert "7-11" in phone.locator("#card-payee").inner_text()
    assert phone.evaluate(WIDE) <= 390
    screenshot(phone, "book-reports-review-phone")

    phone.goto("/book/reports/year?year=2025")
    assert phone.locator("#year-spending").inner_text() == "33,470"
    assert phone.evaluate(WIDE) <= 390
    screenshot(phone, "book-reports-year-phone")

    phone.goto("/book/export")
    assert phone.locator("#download-backup").is_visible()
    assert phone.evaluate(WIDE) <= 390
    screenshot(phone, "book-export-phone")
