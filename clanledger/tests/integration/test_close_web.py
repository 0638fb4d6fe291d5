"""The close, transfer and export pages through the test client."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from urllib.parse import quote

from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select
from test_close_month import month

from clanledger.extensions import db
from clanledger.models import Period, PeriodStatus, Transfer, TransferStatus

__all__ = ["month"]


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, "PNG")
    return buffer.getvalue()


def test_preview_shows_the_saving_and_why_then_closes(client, login, month):
    clan, officer, period = month["clan"], month["officer"], month["period"]
    login(officer)
    client.post("/lang", data={"locale": "en"})
    page = client.get(f"/clans/{clan.id}/periods/{period.id}").get_data(as_text=True)
    assert 'data-testid="saved">26<' in page
    assert "B → A" in page and 'href="#why-1"' in page and 'id="why-2"' in page
    assert "737" in page and "1,074" in page
    listing = client.get(f"/clans/{clan.id}/periods").get_data(as_text=True)
    assert "2026-03" in listing

    assert "Close March 2026: 3 transfers moving 1,896 diamonds in all." in page
    url = f"/clans/{clan.id}/periods/{period.id}/close"
    response = client.post(url, data={"digest": "stale", "confirmed": "y"})
    assert response.status_code == 409
    assert db.session.get(Period, period.id).status == PeriodStatus.OPEN
    unticked = client.post(url, data={})  # the confirmation is required, without JavaScript
    assert unticked.status_code == 400
    assert db.session.get(Period, period.id).status == PeriodStatus.OPEN
    response = client.post(url, data={"confirmed": "y"})
    assert response.status_code == 302
    assert db.session.get(Period, period.id).status == PeriodStatus.CLOSED
    closed = client.get(f"/clans/{clan.id}/periods/{period.id}").get_data(as_text=True)
    assert 'data-testid="saved">26<' in closed and "planned" in closed
    assert "plan-proof" not in closed  # a closed month shows the plan it stored


def test_preview_says_the_plan_is_proven_fewest(client, login, month):
    clan, officer, period = month["clan"], month["officer"], month["period"]
    login(officer)
    url = f"/clans/{clan.id}/periods/{period.id}"
    client.post("/lang", data={"locale": "en"})
    assert 'id="plan-proof">Proven fewest<' in client.get(url).get_data(as_text=True)
    client.post("/lang", data={"locale": "zh_Hant"})
    assert 'id="plan-proof">已證明為最少筆數<' in client.get(url).get_data(as_text=True)


def test_preview_says_how_far_an_unproven_plan_can_be(client, login, month, monkeypatch):
    from clanledger.services import close_preview

    found = close_preview.cached_plan

    def unproven(*args, **kwargs):  # as when the search runs out of time
        plan = found(*args, **kwargs)
        return replace(plan, lower_bound=len(plan.transfers) - 1, method="search")

    monkeypatch.setattr(close_preview, "cached_plan", unproven)
    clan, officer, period = month["clan"], month["officer"], month["period"]
    login(officer)
    url = f"/clans/{clan.id}/periods/{period.id}"
    client.post("/lang", data={"locale": "en"})
    page = client.get(url).get_data(as_text=True)
    assert 'id="plan-proof">At most 1 more than the fewest (lower bound 2)<' in page
    client.post("/lang", data={"locale": "zh_Hant"})
    page = client.get(url).get_data(as_text=True)
    assert 'id="plan-proof">最多比最少筆數多 1 筆（下限 2 筆）<' in page


def test_pay_with_screenshot_confirm_and_dashboard_todo(client, login, month, app):
    from clanledger.services import close

    clan, officer, period = month["clan"], month["officer"], month["period"]
    players, leader = month["players"], month["leader"]
    close.confirm_close(db.session, officer.id, clan.id, period.id)
    transfer = db.session.execute(
        select(Transfer).where(Transfer.payer_character_id == month["ids"]["B"])
    ).scalar_one()

    login(players["B"])
    page = client.get(f"/clans/{clan.id}/transfers").get_data(as_text=True)
    assert "B → A" in page and "D → C" not in page  # members see only their own
    bad = client.post(
        f"/clans/{clan.id}/transfers/{transfer.id}/paid",
        data={f"t{transfer.id}-screenshot": (io.BytesIO(b"not an image"), "shot.png")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 409
    assert db.session.get(Transfer, transfer.id).status == TransferStatus.PLANNED
    ok = client.post(
        f"/clans/{clan.id}/transfers/{transfer.id}/paid",
        data={
            f"t{transfer.id}-paid_gross": "737",
            f"t{transfer.id}-screenshot": (io.BytesIO(png_bytes()), "shot.png"),
        },
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Transfer, transfer.id)
    assert stored.status == TransferStatus.PAID and stored.screenshot.endswith(".png")
    shot = client.get(f"/clans/{clan.id}/transfers/{transfer.id}/screenshot")
    assert shot.status_code == 200 and shot.data == png_bytes()
    shot.close()

    login(leader)
    todo = client.get(f"/clans/{clan.id}/transfers").get_data(as_text=True)
    assert f"/transfers/{transfer.id}/confirm" in todo
    response = client.post(f"/clans/{clan.id}/transfers/{transfer.id}/confirm")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Transfer, transfer.id).status == TransferStatus.CONFIRMED


def test_exports_csv_xlsx_and_printable_statement(client, login, month):
    clan, officer, period = month["clan"], month["officer"], month["period"]
    login(officer)
    ledger = client.get(f"/clans/{clan.id}/export/ledger?period={period.id}")
    assert ledger.status_code == 200 and ledger.mimetype == "text/csv"
    assert ledger.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset
    month_name = period.starts_on.strftime("%Y-%m")
    expected = quote(f"{clan.name}-{month_name}-帳本.csv", safe="")
    assert f"filename*=UTF-8''{expected}" in ledger.headers["Content-Disposition"]
    assert 'filename="' in ledger.headers["Content-Disposition"]  # an ASCII fallback too
    rows = list(csv.reader(io.StringIO(ledger.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][2] == "時間" and "UTC" not in rows[0][2]  # the clan's wall-clock time
    assert {r[3] for r in rows[1:]} == {"售出"} and {r[6] for r in rows[1:]} >= {"血盟基金"}
    amounts = [int(r[-1]) for r in rows[1:]]
    assert len(amounts) == 5 + 5 + 4 and sum(amounts) == 0  # S1, S2, S3 postings

    book = client.get(f"/clans/{clan.id}/export/plan/{period.id}?format=xlsx")
    sheet = load_workbook(io.BytesIO(book.data)).active
    plan = [row for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert {(r[1], r[2], r[3], r[4], r[5]) for r in plan} == {
        ("B", "A", 700, 737, 37),
        ("D", "C", 1020, 1074, 54),
        ("D", "E", 80, 85, 5),
    }
    balances = client.get(f"/clans/{clan.id}/export/balances/{period.id}?format=xlsx")
    closing = {
        r[0]: r[4]
        for r in load_workbook(io.BytesIO(balances.data)).active.iter_rows(
            min_row=2, values_only=True
        )
    }
    assert closing == {
        "A": 372,
        "B": -700,
        "C": 1020,
        "D": -1100,
        "E": 80,
        "血盟基金": 328,
    }  # the fund in words
    assert client.get(f"/clans/{clan.id}/export/ledger?format=pdf").status_code == 404

    login(month["players"]["D"])
    sheet_page = client.get(f"/clans/{clan.id}/export/statement/print?period={period.id}")
    text = sheet_page.get_data(as_text=True)
    # D: -2000 + 720 (sale S2) + 180 (share of S3) = -1100; opening 0.
    assert sheet_page.status_code == 200
    assert "-1,100" in text and "900" in text and "-2,000" in text
    assert client.get(f"/clans/{clan.id}/export/ledger").status_code == 403
    mine = client.get(f"/clans/{clan.id}/export/statement?period={period.id}")
    assert mine.status_code == 200 and "-1100" in mine.get_data(as_text=True)


def test_dashboard_shows_my_transfer_todo(client, login, month):
    from clanledger.services import close

    clan, officer, period = month["clan"], month["officer"], month["period"]
    close.confirm_close(db.session, officer.id, clan.id, period.id)
    login(month["players"]["D"])
    client.post("/lang", data={"locale": "en"})
    page = client.get(f"/clans/{clan.id}/").get_data(as_text=True)
    assert "Your transfers to do" in page
    assert "Buy C's listing at 1,074" in page and "Buy E's listing at 85" in page
    login(month["players"]["B"])
    assert "listing at 1,074" not in client.get(f"/clans/{clan.id}/").get_data(as_text=True)


def test_exports_never_write_formulas():
    from clanledger.services.exports import Table, to_csv, to_xlsx

    table = Table("t", ["name", "amount"], [['=HYPERLINK("x")', -5], ["@SUM(A1)", 7]])
    text = to_csv(table).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM" in text and ",-5" in text
    sheet = load_workbook(io.BytesIO(to_xlsx([(table, table.header, "t")]))).active
    values = [row for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert values == [('\'=HYPERLINK("x")', -5), ("'@SUM(A1)", 7)]


def test_leader_reopens_with_a_reason(client, login, month):
    from clanledger.services import close

    clan, officer, period = month["clan"], month["officer"], month["period"]
    close.confirm_close(db.session, officer.id, clan.id, period.id)
    url = f"/clans/{clan.id}/periods/{period.id}/reopen"
    login(officer)
    assert client.post(url, data={"reason": "missed a sale"}).status_code == 403
    login(month["leader"])
    page = client.get(f"/clans/{clan.id}/periods/{period.id}").get_data(as_text=True)
    assert url in page  # the leader sees the reopen form on a closed period
    assert client.post(url, data={"reason": ""}).status_code == 400
    assert db.session.get(Period, period.id).status == PeriodStatus.CLOSED
    assert client.post(url, data={"reason": "missed a sale"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Period, period.id).status == PeriodStatus.OPEN
    assert db.session.execute(select(Transfer)).first() is None  # nobody had paid
