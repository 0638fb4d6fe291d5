"""The month plan reaches the clan chat with the close that made it, and only then: the
March month of ``test_close_month`` (three transfers), closed with a webhook listening."""

from __future__ import annotations

import json

import pytest
import test_close_month
import test_notify
from sqlalchemy import select
from test_notify import FAST, Receiver

from clanledger.extensions import db
from clanledger.models import OutboxMessage, Transfer
from clanledger.services import close, delivery, notify, transfers
from clanledger.services.errors import Conflict

# Fixtures shared with the close and notification tests.
month = test_close_month.month
receiver = test_notify.receiver


def _listen(world, url: str, locale: str = "zh_Hant") -> None:
    notify.add_webhook(
        db.session,
        world["officer"].id,
        world["clan"].id,
        kind="generic",
        url=url,
        events=["month_closed"],
        locale=locale,
        allow_internal=True,
    )


def test_the_close_sends_one_line_per_transfer(month, receiver: Receiver):
    clan, officer, period = month["clan"], month["officer"], month["period"]
    _listen(month, receiver.url)
    preview = close.preview_close(db.session, officer.id, clan.id, period.id)
    close.confirm_close(db.session, officer.id, clan.id, period.id, preview.digest)

    assert delivery.deliver_once(db.session, FAST).sent == 1
    ((_headers, body),) = receiver.received
    message = json.loads(body)
    assert message["event"] == "month_closed"
    assert message["text"].splitlines() == [
        "2026年3月已結算，請完成以下轉帳：",
        "A：請以 737 上架一件垃圾物品，讓 B 買下",
        "C：請以 1,074 上架一件垃圾物品，讓 D 買下",
        "E：請以 85 上架一件垃圾物品，讓 D 買下",
    ]
    amounts = [
        (t["payer"], t["receiver"], t["gross"], t["net"]) for t in message["data"]["transfers"]
    ]
    assert amounts == [("B", "A", 737, 700), ("D", "C", 1074, 1020), ("D", "E", 85, 80)]
    assert all(isinstance(t["gross"], int) for t in message["data"]["transfers"])


def test_a_refused_close_queues_nothing(month, receiver: Receiver):
    clan, officer, period = month["clan"], month["officer"], month["period"]
    _listen(month, receiver.url)
    with pytest.raises(Conflict):
        close.confirm_close(db.session, officer.id, clan.id, period.id, "not-the-digest")
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_a_dead_chat_does_not_stop_the_close(month):
    clan, officer, period = month["clan"], month["officer"], month["period"]
    _listen(month, "http://127.0.0.1:9/nobody-listens", locale="en")
    preview = close.preview_close(db.session, officer.id, clan.id, period.id)
    closed = close.confirm_close(db.session, officer.id, clan.id, period.id, preview.digest)
    assert closed.status.value == "closed"
    assert delivery.deliver_once(db.session, FAST).retrying == 1


def test_the_close_page_offers_the_plan_to_copy(month, login, client):
    clan, officer, period = month["clan"], month["officer"], month["period"]
    login(officer)
    before = client.get(f"/clans/{clan.id}/periods/{period.id}").get_data(as_text=True)
    assert (
        "2026年3月預計的轉帳（本月尚未結算）：\nA：請以 737 上架一件垃圾物品，讓 B 買下" in before
    )
    preview = close.preview_close(db.session, officer.id, clan.id, period.id)
    close.confirm_close(db.session, officer.id, clan.id, period.id, preview.digest)
    after = client.get(f"/clans/{clan.id}/periods/{period.id}").get_data(as_text=True)
    assert "2026年3月已結算，請完成以下轉帳：\nA：請以 737 上架一件垃圾物品，讓 B 買下" in after


def test_paid_and_confirmed_transfers_reach_the_chat(month, receiver: Receiver):
    clan, officer, period = month["clan"], month["officer"], month["period"]
    players, leader = month["players"], month["leader"]
    notify.add_webhook(
        db.session,
        officer.id,
        clan.id,
        kind="discord",
        url=receiver.url,
        events=["transfer_paid", "transfer_confirmed"],
        locale="en",
        allow_internal=True,
    )
    preview = close.preview_close(db.session, officer.id, clan.id, period.id)
    close.confirm_close(db.session, officer.id, clan.id, period.id, preview.digest)
    ba = next(t.id for t in db.session.scalars(select(Transfer)) if t.gross == 737)
    transfers.mark_paid(db.session, players["B"].id, clan.id, ba, paid_gross=740)
    transfers.confirm_received(db.session, leader.id, clan.id, ba)

    assert delivery.deliver_once(db.session, FAST).sent == 2
    texts = [json.loads(body)["content"] for _headers, body in receiver.received]
    assert texts == [
        "B bought A's listing at 740: A, please confirm that you got the diamonds.",
        "A confirmed receiving 740 from B.",
    ]
