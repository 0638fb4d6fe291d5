"""Finding 2: a month could be closed before it ended, with one tap, and then the dashboard
and "My statement" stayed on the closed month while every write into it was refused in
English. Now a month closes after its last day (clan timezone); the leader may close early
with a reason (audited); the close needs a tick that restates it; pages open on the open
month; and service errors are translated, the month named in the user's language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from test_close_month import at, month

from clanledger.extensions import db
from clanledger.i18n import service_message
from clanledger.models import AuditLog, EntryKind, Period, PeriodStatus
from clanledger.services import close
from clanledger.services.errors import Conflict, ValidationError
from clanledger.services.journal import PostingLine, post_entry
from clanledger.services.periods import PeriodLocked

__all__ = ["month"]

MARCH_4 = datetime(2026, 3, 4, 4, tzinfo=UTC)  # noon in Taipei, the 4th


@pytest.fixture
def on_march_4(monkeypatch):
    """The server's clock reads 4 March 2026 (for the pages that default to today)."""
    for module in ("periods", "close", "dashboard"):
        monkeypatch.setattr(f"clanledger.services.{module}.utcnow", lambda: MARCH_4)


def test_an_officer_cannot_close_a_month_before_its_last_day(month, app):
    clan, officer, period = month["clan"], month["officer"], month["period"]
    with pytest.raises(Conflict) as refused:
        close.confirm_close(db.session, officer.id, clan.id, period.id, now=MARCH_4)
    assert db.session.get(Period, period.id).status == PeriodStatus.OPEN
    with app.test_request_context(headers={"Accept-Language": "zh-TW"}):
        shown = service_message(refused.value)
    assert shown.startswith("2026年3月 還沒結束") and "2026年4月1日" in shown
    # The last day (Taipei) is still inside the month; the first of April is not.
    with pytest.raises(Conflict):
        close.confirm_close(
            db.session,
            officer.id,
            clan.id,
            period.id,
            now=datetime(2026, 3, 31, 15, 59, tzinfo=UTC),
        )
    close.confirm_close(
        db.session, officer.id, clan.id, period.id, now=datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    )
    assert db.session.get(Period, period.id).early_close_reason is None


def test_the_leader_closes_early_only_with_a_reason_kept_in_the_audit_log(month):
    clan, leader, period = month["clan"], month["leader"], month["period"]
    with pytest.raises(ValidationError) as missing:
        close.confirm_close(
            db.session, leader.id, clan.id, period.id, now=MARCH_4, early_reason=" "
        )
    assert missing.value.field == "early_reason"
    close.confirm_close(
        db.session, leader.id, clan.id, period.id, now=MARCH_4, early_reason="盟戰停賽，提前結算"
    )
    stored = db.session.get(Period, period.id)
    assert (
        stored.status == PeriodStatus.CLOSED and stored.early_close_reason == "盟戰停賽，提前結算"
    )
    logged = db.session.execute(
        select(AuditLog).where(AuditLog.entity_type == "Period", AuditLog.entity_id == period.id)
    ).scalars()
    assert any(
        (row.after or {}).get("early_close_reason") == "盟戰停賽，提前結算" for row in logged
    )


def test_the_close_page_asks_for_the_reason_and_the_tick(client, login, month, on_march_4):
    clan, officer, leader, period = (
        month["clan"],
        month["officer"],
        month["leader"],
        month["period"],
    )
    url = f"/clans/{clan.id}/periods/{period.id}/close"
    login(officer)
    page = client.get(f"/clans/{clan.id}/periods/{period.id}").get_data(as_text=True)
    assert (
        'id="month-not-ended"' in page
        and "結帳 2026年3月：共 3 筆轉帳，合計移轉 1,896 鑽。" in page
    )
    refused = client.post(url, data={"confirmed": "y"})
    assert refused.status_code == 409
    assert "2026年3月 還沒結束" in refused.get_data(as_text=True)

    login(leader)
    no_reason = client.post(url, data={"confirmed": "y"})
    assert no_reason.status_code == 409
    assert "要提前結帳，請說明原因" in no_reason.get_data(as_text=True)
    assert client.post(url, data={"early_reason": "停機維護"}).status_code == 400  # no tick
    done = client.post(url, data={"confirmed": "y", "early_reason": "停機維護"})
    assert done.status_code == 302
    assert db.session.get(Period, period.id).status == PeriodStatus.CLOSED
    audit = client.get(f"/clans/{clan.id}/audit").get_data(as_text=True)
    assert "停機維護" in audit
    assert '<td class="diff-after break-all">已月結</td>' in audit  # the month's state in words
    assert ">closed<" not in audit and ">open<" not in audit


def test_after_an_early_close_pages_open_on_the_open_month(client, login, month, on_march_4):
    clan, leader, period = month["clan"], month["leader"], month["period"]
    close.confirm_close(db.session, leader.id, clan.id, period.id, now=MARCH_4, early_reason="提前")
    login(month["players"]["B"])
    board = client.get(f"/clans/{clan.id}/").get_data(as_text=True)
    assert "2026年4月1日" in board and 'id="closed-month"' in board
    assert f"period={period.id}" in board  # the closed month stays one click away
    statement = client.get(f"/clans/{clan.id}/statement").get_data(as_text=True)
    assert "2026年4月1日" in statement and "2026年3月1日 –" not in statement
    closed = client.get(f"/clans/{clan.id}/statement?period={period.id}")
    assert closed.status_code == 200 and "2026年3月1日" in closed.get_data(as_text=True)


def test_a_write_into_a_closed_month_is_refused_in_the_users_language(month, app):
    clan, officer, period = month["clan"], month["officer"], month["period"]
    close.confirm_close(db.session, officer.id, clan.id, period.id)
    ids = month["ids"]
    with pytest.raises(PeriodLocked) as refused:  # the path of every sale, correction, roll call
        post_entry(
            db.session,
            clan,
            kind=EntryKind.ADJUSTMENT,
            lines=[PostingLine("member", ids["B"], 5), PostingLine("member", ids["C"], -5)],
            occurred_at=at(20),
            actor_id=officer.id,
            reason="late",
        )
    with app.test_request_context():
        assert service_message(refused.value).startswith("2026年3月 已結帳")
    assert "2026-03 is closed" in refused.value.text
