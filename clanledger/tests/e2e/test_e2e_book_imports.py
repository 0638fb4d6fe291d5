"""Importing on a phone (390 x 844): upload a Big5 bank CSV with 民國 dates, see the mapping
and the preview, import, then an e-invoice export; every target at least 44 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from test_e2e_loot import sign_in
from test_e2e_phone import SMALL_TARGETS

from clanledger.extensions import db
from clanledger.services.book.accounts import balances, ensure_book, list_accounts

pytestmark = pytest.mark.browser

BANK = (
    "交易日期,摘要,支出,存入,餘額,備註\n"
    '115/12/01,"全家便利商店, 信義店",120,,9880,早餐\n'
    "115/12/02,薪資轉入,0,50000,59880,\n"
    "115/12/03,台北捷運,35,,59845,\n"
)
EINVOICE = (
    "表頭=M|載具名稱|載具號碼|發票日期|商店統編|商店店名|發票號碼|總金額|發票狀態|\n"
    "M|手機條碼|/ABC1234|20261204|12345678|全家便利商店股份有限公司|AB12345678|120|開立|\n"
    "D|AB12345678|45|鮮乳|\nD|AB12345678|80|御飯糰|\nD|AB12345678|-5|折價|\n"
    "M|手機條碼|/ABC1234|20261205|22345678|全聯實業股份有限公司|CD12345678|99|作廢|\n"
)


def _upload(phone, kind: str, name: str, data: bytes) -> None:
    phone.goto("/book/imports")
    phone.select_option("select[name=kind]", kind)
    phone.set_input_files(
        "input[name=upload]", files=[{"name": name, "mimeType": "text/csv", "buffer": data}]
    )
    phone.locator("#import-upload [type=submit]").click()
    phone.wait_for_load_state()


def test_a_bank_csv_and_an_einvoice_export_on_a_phone(make_user, new_page, screenshot):
    user = make_user(locale="zh_Hant")
    ensure_book(db.session, user.id)
    db.session.commit()
    phone = new_page({"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    sign_in(phone, user.username)
    phone.goto("/book/imports")
    assert phone.evaluate(SMALL_TARGETS) == []
    screenshot(phone, "book-imports-upload")

    _upload(phone, "csv", "銀行.csv", BANK.encode("cp950"))
    screenshot(phone, "book-imports-mapping")
    expect(phone.locator("#import-preview")).to_contain_text("全家便利商店, 信義店")
    expect(phone.locator("#preview-title")).to_contain_text("3 筆新交易")
    assert phone.evaluate(SMALL_TARGETS) == []
    screenshot(phone, "book-imports-mapping")
    phone.locator("button[name=action][value=confirm]").click()
    expect(phone.locator("#import-result")).to_contain_text("3")
    screenshot(phone, "book-imports-result")

    _upload(phone, "einvoice", "載具.csv", EINVOICE.encode("utf-8"))
    expect(phone.locator("#import-preview")).to_contain_text("全家便利商店")
    expect(phone.locator("#import-preview")).to_contain_text("已作廢")
    screenshot(phone, "book-imports-einvoice")
    phone.locator("button[name=action][value=confirm]").click()
    expect(phone.locator("#import-result")).to_be_visible()

    db.session.expire_all()
    cash = list_accounts(db.session, user.id)[0].id
    assert balances(db.session, user.id)[cash] == -120 + 50000 - 35 - 120
    phone.goto("/book/imports")
    expect(phone.locator("#import-list li")).to_have_count(2)
    screenshot(phone, "book-imports-list")
