"""Clan-chat webhooks end to end: the change and its outbox row commit together, a local
HTTP receiver gets the message (signed, in the webhook's language), a failing receiver never
blocks a write and is retried with backoff, a retry carries the same delivery id, and two
workers at once send each message once."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from clanledger.domain.notify import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Event,
    sign,
)
from clanledger.extensions import db
from clanledger.models import Kill, OutboxMessage, OutboxStatus, Role, Webhook
from clanledger.models.types import utcnow
from clanledger.services import bosses, delivery, drops, kills, notify
from clanledger.services.notify import DeliveryPolicy

FAST = DeliveryPolicy(
    max_attempts=3, base_delay_s=30, timeout_s=1.0, lease_s=60, allow_internal=True
)


@dataclass
class Receiver:
    """A webhook endpoint on 127.0.0.1: answers with ``script`` in turn (a status, or
    ``"slow"`` to sleep past the worker's timeout), then 200; keeps what it received and
    the delivery ids it accepted (a repeat of an accepted id is dropped, as a bot would)."""

    url: str = ""
    secret: str | None = None  # when set, a bad or stale signature is answered 401
    script: list[int | str] = field(default_factory=list)
    received: list[tuple[dict, bytes]] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _genuine(headers, body: bytes, secret: str) -> bool:
    """What a bot does: recompute the HMAC and refuse a timestamp older than 5 minutes."""
    stamp = headers.get(TIMESTAMP_HEADER, "")
    if not stamp.isdigit() or abs(int(stamp) - time.time()) > 300:
        return False
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(headers.get(SIGNATURE_HEADER, ""), "sha256=" + mac.hexdigest())


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                state.received.append((dict(self.headers), body))
                action = state.script.pop(0) if state.script else 200
            if state.secret is not None and not _genuine(self.headers, body, state.secret):
                action = 401
            if action == "slow":
                time.sleep(FAST.timeout_s * 2)
                action = 200
            if action == 200:
                with state.lock:
                    key = self.headers[DELIVERY_HEADER]
                    if key not in state.accepted:
                        state.accepted.append(key)
            self.send_response(int(action))
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def clan_setup(make_user, make_clan, add_member, make_character):
    officer = make_user("officer")
    clan = make_clan(leader=officer, name="星辰血盟")
    chars = [make_character(clan, officer, "夜風"), make_character(clan, None, "星辰")]
    boss = bosses.add_boss(db.session, officer.id, clan.id, "安塔瑞斯")
    return clan, officer, chars, boss


def _hook(clan, officer, url, kind="generic", locale="zh_Hant", events=None):
    return notify.add_webhook(
        db.session,
        officer.id,
        clan.id,
        kind=kind,
        url=url,
        events=events or ["kill_recorded", "drop_recorded", "sale_recorded", "month_closed"],
        locale=locale,
        allow_internal=True,
    )


def _kill(clan, officer, chars, boss) -> Kill:
    return kills.record_kill(
        db.session,
        officer.id,
        clan.id,
        boss_id=boss.id,
        killed_at=utcnow() - timedelta(minutes=5),
        participants={c.id: "1" for c in chars},
    )


def _rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_kill_reaches_a_generic_webhook_signed_in_chinese(clan_setup, receiver):
    clan, officer, chars, boss = clan_setup
    hook, secret = _hook(clan, officer, receiver.url)
    kill = _kill(clan, officer, chars, boss)
    (row,) = _rows()
    assert row.status == OutboxStatus.PENDING and row.event == "kill_recorded"

    report = delivery.deliver_once(db.session, FAST)

    assert (report.sent, report.retrying, report.dead) == (1, 0, 0)
    ((headers, body),) = receiver.received
    stamp = headers[TIMESTAMP_HEADER]
    assert abs(int(stamp) - time.time()) < 60
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    assert hmac.compare_digest(headers[SIGNATURE_HEADER], "sha256=" + mac.hexdigest())
    message = json.loads(body)
    assert message["id"] == headers[DELIVERY_HEADER] == row.idempotency_key
    assert message["event"] == "kill_recorded"
    assert message["clan"] == {"id": clan.id, "name": "星辰血盟"}
    assert message["data"]["kill_id"] == kill.id and message["data"]["code"] == kill.checkin_code
    assert f"以代碼 {kill.checkin_code} 報到" in message["text"]
    assert _rows()[0].status == OutboxStatus.SENT
    assert delivery.deliver_once(db.session, FAST).ids == []  # nothing is sent twice
    assert hook.secret == secret


def test_a_forged_or_replayed_body_fails_the_signature(clan_setup, receiver):
    clan, officer, chars, boss = clan_setup
    _hook_row, secret = _hook(clan, officer, receiver.url)
    _kill(clan, officer, chars, boss)
    delivery.deliver_once(db.session, FAST)
    ((headers, body),) = receiver.received
    stamp = int(headers[TIMESTAMP_HEADER])
    forged = body.replace(b"kill_recorded", b"sale_recorded")
    expected = headers[SIGNATURE_HEADER]
    assert sign(secret, stamp, body) == expected
    assert sign(secret, stamp, forged) != expected
    assert sign(secret, stamp + 600, body) != expected  # a new timestamp needs a new MAC


def test_discord_gets_content_in_english(clan_setup, receiver):
    clan, officer, chars, boss = clan_setup
    _hook(clan, officer, receiver.url, kind="discord", locale="en", events=["drop_recorded"])
    kill = _kill(clan, officer, chars, boss)  # not heard by this webhook
    drops.record_drop(
        db.session,
        officer.id,
        clan.id,
        kill_id=kill.id,
        name="屠龍刀",
        holder_character_id=chars[0].id,
    )
    assert [r.event for r in _rows()] == ["drop_recorded"]
    delivery.deliver_once(db.session, FAST)
    ((headers, body),) = receiver.received
    assert SIGNATURE_HEADER not in headers
    assert json.loads(body) == {"content": "New drop from 安塔瑞斯: 屠龍刀, held by 夜風."}


@pytest.mark.parametrize("failure", [500, "slow"])
def test_a_failing_receiver_is_retried_with_backoff_and_not_duplicated(
    clan_setup, receiver, failure
):
    clan, officer, chars, boss = clan_setup
    _hook(clan, officer, receiver.url)
    receiver.script = [failure, failure]
    kill = _kill(clan, officer, chars, boss)  # the write does not wait for the chat
    assert db.session.get(Kill, kill.id) is not None
    now = utcnow()

    first = delivery.deliver_once(db.session, FAST, now=now)
    (row,) = _rows()
    assert first.retrying == 1 and row.status == OutboxStatus.PENDING and row.attempts == 1
    assert row.next_attempt_at == now + timedelta(seconds=30)
    assert row.last_code == (500 if failure == 500 else None)
    assert delivery.deliver_once(db.session, FAST, now=now).ids == []  # not due yet

    later = now + timedelta(seconds=30)
    delivery.deliver_once(db.session, FAST, now=later)
    assert _rows()[0].next_attempt_at == later + timedelta(seconds=60)  # doubled
    delivery.deliver_once(db.session, FAST, now=later + timedelta(seconds=60))
    (row,) = _rows()
    assert row.status == OutboxStatus.SENT and row.attempts == 3
    keys = {headers[DELIVERY_HEADER] for headers, _ in receiver.received}
    assert keys == {row.idempotency_key} and len(receiver.received) == 3
    assert receiver.accepted == [row.idempotency_key]


def test_a_refused_connection_ends_dead_after_the_last_try(clan_setup, receiver):
    clan, officer, chars, boss = clan_setup
    _hook(clan, officer, "http://127.0.0.1:9/nobody-listens")
    _kill(clan, officer, chars, boss)
    now = utcnow()
    for attempt in range(FAST.max_attempts):
        report = delivery.deliver_once(db.session, FAST, now=now + timedelta(hours=attempt))
        assert len(report.ids) == 1
    (row,) = _rows()
    assert row.status == OutboxStatus.DEAD and row.last_code is None and row.last_error
    assert delivery.deliver_once(db.session, FAST, now=now + timedelta(days=1)).ids == []
    # A dead endpoint does not hold up the next change.
    _kill(clan, officer, chars, boss)
    assert len(_rows()) == 2


def test_two_workers_at_once_send_each_message_once(app, clan_setup, receiver):
    clan, officer, chars, boss = clan_setup
    _hook(clan, officer, receiver.url)
    for _ in range(12):
        _kill(clan, officer, chars, boss)
    policy = DeliveryPolicy(batch=2, timeout_s=2.0, lease_s=60, allow_internal=True)
    errors: list[BaseException] = []

    def worker() -> None:
        with app.app_context():
            try:
                while delivery.deliver_once(db.session, policy).ids:
                    pass
            except BaseException as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    keys = [headers[DELIVERY_HEADER] for headers, _ in receiver.received]
    assert len(keys) == 12 and len(set(keys)) == 12
    assert {r.status for r in _rows()} == {OutboxStatus.SENT}


def test_a_clan_without_webhooks_writes_no_outbox(clan_setup):
    clan, officer, chars, boss = clan_setup
    _kill(clan, officer, chars, boss)
    assert _rows() == []


def test_month_plan_text_has_one_line_per_transfer():
    data = {
        "month": date(2026, 11, 1).isoformat(),
        "transfers": [
            {"payer": "星辰", "receiver": "夜風", "gross": 2413},
            {"payer": "月影", "receiver": "夜風", "gross": 1000000},
        ],
    }
    zh = notify.render("month_closed", data, "zh_Hant")
    assert zh.splitlines() == [
        "2026年11月已結算，請完成以下轉帳：",
        "夜風：請以 2,413 上架一件垃圾物品，讓 星辰 買下",
        "夜風：請以 1,000,000 上架一件垃圾物品，讓 月影 買下",
    ]
    en = notify.render("month_closed", data, "en")
    assert en.splitlines()[1] == "夜風: list a junk item at 2,413 for 星辰 to buy"
    empty = notify.render("month_closed", {**data, "transfers": []}, "en")
    assert empty == "November 2026 is closed: no transfers this month."


def test_the_deliver_command(app, clan_setup, receiver):
    clan, officer, chars, boss = clan_setup
    _hook(clan, officer, receiver.url)
    _kill(clan, officer, chars, boss)
    app.config["WEBHOOKS_ALLOW_INTERNAL"] = True  # the receiver is on 127.0.0.1
    runner = app.test_cli_runner()
    assert "--once" in runner.invoke(args=["deliver", "--help"]).output
    result = runner.invoke(args=["deliver", "--once"])
    assert result.exit_code == 0 and "1 sent, 0 to retry, 0 dead." in result.output
    bad = runner.invoke(args=["deliver", "--once", "--interval", "0"])
    assert bad.exit_code == 2 and "--interval" in bad.output


# -- the page ------------------------------------------------------------------------------


def _form(url="https://discord.com/api/webhooks/1/abc", **fields):
    form = {"kind": "generic", "url": url, "events": ["kill_recorded"], "locale": "en"}
    return form | {"unsold_days": "7"} | fields


def test_an_officer_adds_a_webhook_and_sees_its_secret_once(clan_setup, login, client):
    clan, officer, _, _ = clan_setup
    login(officer)
    response = client.post(f"/clans/{clan.id}/webhooks", data=_form())
    assert response.status_code == 200
    hook = db.session.scalars(select(Webhook)).one()
    assert hook.secret and hook.secret.encode() in response.data
    again = client.get(f"/clans/{clan.id}/webhooks")
    assert hook.secret.encode() not in again.data and hook.url.encode() in again.data
    removed = client.post(f"/clans/{clan.id}/webhooks/{hook.id}/remove")
    assert removed.status_code == 302
    db.session.expire_all()
    assert not db.session.get(Webhook, hook.id).active


@pytest.mark.parametrize(
    ("fields", "status", "text"),
    [
        ({"url": "ftp://example.com/x"}, 409, b"http://"),
        ({"url": "not a url"}, 409, b"http://"),
        ({"url": "http://127.0.0.1:8080/x"}, 409, b"network"),
        ({"url": "http://10.1.2.3/x"}, 409, b"network"),
        ({"url": "http://localhost/x"}, 409, b"network"),
        ({"url": "https://example.com/" + "a" * 600}, 400, b"500"),
        ({"url": "https://[::1/x"}, 409, b"web address"),
        ({"events": ["nonsense"]}, 400, b"choice"),
        ({"events": []}, 400, b"at least one event"),
        ({"kind": "carrier-pigeon"}, 400, b"choice"),
        ({"locale": "fr"}, 400, b"choice"),
    ],
)
def test_bad_webhook_input_is_a_form_error(clan_setup, login, client, fields, status, text):
    clan, officer, _, _ = clan_setup
    officer.locale = "en"
    db.session.commit()
    login(officer)
    response = client.post(f"/clans/{clan.id}/webhooks", data=_form(**fields))
    assert response.status_code == status, response.data[:2000]
    assert text.lower() in response.data.lower()
    assert db.session.scalars(select(Webhook)).all() == []


def test_internal_targets_are_allowed_only_by_the_app_setting(app, clan_setup, login, client):
    clan, officer, _, _ = clan_setup
    login(officer)
    app.config["WEBHOOKS_ALLOW_INTERNAL"] = True
    response = client.post(f"/clans/{clan.id}/webhooks", data=_form("http://127.0.0.1:8080/x"))
    assert response.status_code == 200
    assert db.session.scalars(select(Webhook.url)).all() == ["http://127.0.0.1:8080/x"]


def test_a_member_cannot_see_the_webhooks(clan_setup, make_user, add_member, login, client):
    clan, _, _, _ = clan_setup
    member = make_user("member")
    add_member(clan, member, Role.MEMBER)
    login(member)
    assert client.get(f"/clans/{clan.id}/webhooks").status_code == 403


def test_the_kill_page_offers_the_chat_text_to_copy(clan_setup, login, client):
    clan, officer, chars, boss = clan_setup
    kill = _kill(clan, officer, chars, boss)
    login(officer)
    page = client.get(f"/clans/{clan.id}/kills/{kill.id}").get_data(as_text=True)
    expected = notify.render(
        "kill_recorded",
        notify.kill_data(clan, kill, "安塔瑞斯"),
        "zh_Hant",
        "http://localhost/",
    )
    assert f"以代碼 {kill.checkin_code} 報到" in expected
    assert f"readonly>{expected}</textarea>" in page.replace("&amp;", "&")
    assert f"/clans/{clan.id}/checkin?code={kill.checkin_code}" in expected


def test_an_item_unsold_for_n_days_is_reminded_once(clan_setup, receiver):
    clan, officer, chars, boss = clan_setup
    notify.add_webhook(
        db.session,
        officer.id,
        clan.id,
        kind="discord",
        url=receiver.url,
        events=["item_unsold"],
        locale="en",
        unsold_days=7,
        allow_internal=True,
    )
    kill = _kill(clan, officer, chars, boss)
    now = utcnow()
    for name, days_ago in (("屠龍刀", 8), ("木劍", 3)):
        drop = drops.record_drop(
            db.session,
            officer.id,
            clan.id,
            kill_id=kill.id,
            name=name,
            holder_character_id=chars[0].id,
        )
        drops.list_drop(
            db.session,
            officer.id,
            clan.id,
            drop.id,
            asking_price=2413,
            now=now - timedelta(days=days_ago),
        )

    assert notify.queue_unsold_reminders(db.session, now) == 1
    assert notify.queue_unsold_reminders(db.session, now) == 0  # queued once
    assert delivery.deliver_once(db.session, FAST, now=now).sent == 1
    assert delivery.deliver_once(db.session, FAST, now=now + timedelta(hours=1)).ids == []
    ((_headers, body),) = receiver.received
    assert json.loads(body)["content"] == (
        "屠龍刀 has not sold in 7 days (asking 2,413, held by 夜風): lower the price or relist it."
    )
    # Four days later the second item is due too.
    assert notify.queue_unsold_reminders(db.session, now + timedelta(days=4)) == 1


@pytest.mark.parametrize("days", ["0", "61", "-1", "x", ""])
def test_a_bad_reminder_delay_is_a_form_error(clan_setup, login, client, days):
    clan, officer, _, _ = clan_setup
    login(officer)
    response = client.post(f"/clans/{clan.id}/webhooks", data=_form(unsold_days=days))
    assert response.status_code == 400
    assert db.session.scalars(select(Webhook)).all() == []


def test_a_worker_does_not_contact_an_internal_address_unless_allowed(clan_setup, receiver):
    clan, officer, chars, boss = clan_setup
    _hook(clan, officer, receiver.url)  # added while the setting allowed it
    _kill(clan, officer, chars, boss)
    strict = DeliveryPolicy(max_attempts=1, timeout_s=1.0)
    assert delivery.deliver_once(db.session, strict).dead == 1
    assert receiver.received == []
    assert "inside the server's network" in _rows()[0].last_error


def test_the_receiver_checks_the_signature(clan_setup, receiver):
    clan, officer, chars, boss = clan_setup
    _hook(clan, officer, receiver.url)
    receiver.secret = "not-the-webhook-secret"
    _kill(clan, officer, chars, boss)
    assert delivery.deliver_once(db.session, FAST).retrying == 1
    assert _rows()[0].last_code == 401 and receiver.accepted == []

    receiver.secret = db.session.scalars(select(Webhook.secret)).one()
    later = utcnow() + timedelta(seconds=31)
    assert delivery.deliver_once(db.session, FAST, now=later).sent == 1
    assert receiver.accepted == [_rows()[0].idempotency_key]


def test_the_settings_page_links_to_the_clan_chat(clan_setup, login, client):
    clan, leader, _, _ = clan_setup  # the clan's leader
    login(leader)
    page = client.get(f"/clans/{clan.id}/settings").get_data(as_text=True)
    assert f'href="/clans/{clan.id}/webhooks" id="clan-chat-link"' in page


def test_a_long_month_plan_reaches_discord_in_pieces(clan_setup, receiver):
    clan, officer, _chars, _boss = clan_setup
    _hook(clan, officer, receiver.url, kind="discord", events=["month_closed"])
    lines = [
        {"payer": f"付款人{i:03d}", "receiver": f"收款人{i:03d}", "gross": 1000 + i}
        for i in range(120)
    ]
    notify.enqueue(
        db.session, clan, Event.MONTH_CLOSED, {"month": "2026-11-01", "transfers": lines}
    )
    db.session.commit()
    assert delivery.deliver_once(db.session, FAST).sent == 1
    contents = [json.loads(body)["content"] for _headers, body in receiver.received]
    assert len(contents) > 1 and all(len(c) <= 2000 for c in contents)
    text = "\n".join(contents).splitlines()
    assert (
        len(text) == 121 and text[-1] == "收款人119：請以 1,119 上架一件垃圾物品，讓 付款人119 買下"
    )
    assert len({h[DELIVERY_HEADER] for h, _body in receiver.received}) == 1  # one message
