"""The webhook delivery worker: claim due outbox rows, send them with no transaction open,
record the outcome (sent, another try after a backoff, or dead)."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from clanledger.domain import notify as rules
from clanledger.domain.notify import WebhookKind
from clanledger.models import OutboxMessage, OutboxStatus, Webhook
from clanledger.models.types import utcnow
from clanledger.services.notify import (
    DeliveryPolicy,
    DeliveryReport,
    queue_unsold_reminders,
    render,
    request_bodies,
)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook answers where it was added: a redirect is a failure, not a new target."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass(frozen=True)
class Outcome:
    code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


def claim(session: Session, policy: DeliveryPolicy, now: datetime) -> list[int]:
    """Claim up to ``policy.batch`` due rows for ``policy.lease_s`` and commit: another
    worker skips them (PostgreSQL: locked rows are skipped; SQLite: the claim runs under
    ``BEGIN IMMEDIATE``, so a second worker waits and then sees them claimed)."""
    due = or_(
        and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.lease_until < now),
    )
    try:
        ids = list(
            session.scalars(
                select(OutboxMessage.id)
                .where(due)
                .order_by(OutboxMessage.id)
                .limit(policy.batch)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(
                    status=OutboxStatus.SENDING,
                    lease_until=now + timedelta(seconds=policy.lease_s),
                    attempts=OutboxMessage.attempts + 1,
                )
            )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return ids


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
    """POST ``body``; any answer, refusal or timeout becomes an :class:`Outcome`."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return Outcome(response.status, None)
    except urllib.error.HTTPError as exc:
        return Outcome(exc.code, f"HTTP {exc.code}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Outcome(None, str(reason)[:300] or type(exc).__name__)


def prepare(
    message: OutboxMessage, webhook: Webhook, policy: DeliveryPolicy
) -> list[tuple[str, bytes, dict[str, str]]]:
    """The requests of one try: (url, body, headers) per body, signed when generic."""
    text = render(message.event, json.loads(message.data), webhook.locale, policy.public_url)
    requests = []
    for body in request_bodies(message, webhook, text):
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "clanledger-webhook",
            rules.DELIVERY_HEADER: message.idempotency_key,
        }
        if webhook.kind == WebhookKind.GENERIC and webhook.secret:
            stamp = int(time.time())
            headers[rules.TIMESTAMP_HEADER] = str(stamp)
            headers[rules.SIGNATURE_HEADER] = rules.sign(webhook.secret, stamp, body)
        requests.append((webhook.url, body, headers))
    return requests


def resolves_inside(url: str) -> bool:
    """Whether ``url``'s host resolves to an internal address now (names are checked when a
    webhook is added; this catches a public name pointed at the server's own network)."""
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False  # unresolvable: the request fails on its own
    return any(rules.internal_address(str(info[4][0])) for info in infos)


def send(requests: list[tuple[str, bytes, dict[str, str]]], policy: DeliveryPolicy) -> Outcome:
    """Send every request in order, stopping at the first failure."""
    outcome = Outcome(None, "nothing to send")
    for url, body, headers in requests:
        if not policy.allow_internal and resolves_inside(url):
            return Outcome(None, "refused: the address is inside the server's network")
        outcome = post(url, body, headers, policy.timeout_s)
        if not outcome.ok:
            break
    return outcome


def record(
    session: Session, message_id: int, outcome: Outcome, policy: DeliveryPolicy, now: datetime
) -> OutboxStatus:
    """Store the outcome of one try: sent, pending with the next try time, or dead."""
    message = session.get(OutboxMessage, message_id)
    assert message is not None
    message.last_code = outcome.code
    message.last_error = outcome.error
    message.lease_until = None
    if outcome.ok:
        message.status = OutboxStatus.SENT
        message.sent_at = now
    elif message.attempts >= policy.max_attempts:
        message.status = OutboxStatus.DEAD
    else:
        message.status = OutboxStatus.PENDING
        message.next_attempt_at = now + policy.delay(message.attempts)
    status = message.status
    session.commit()
    return status


def deliver_once(
    session: Session, policy: DeliveryPolicy, now: datetime | None = None
) -> DeliveryReport:
    """One pass: queue the due "item unsold" reminders, claim what is due, send each row,
    record each outcome."""
    report = DeliveryReport()
    queue_unsold_reminders(session, now or utcnow())
    for message_id in claim(session, policy, now or utcnow()):
        message = session.get(OutboxMessage, message_id)
        webhook = session.get(Webhook, message.webhook_id) if message else None
        requests = prepare(message, webhook, policy) if message and webhook else []
        session.commit()  # no transaction open while the network is slow
        outcome = send(requests, policy)
        status = record(session, message_id, outcome, policy, utcnow() if now is None else now)
        report.ids.append(message_id)
        if status == OutboxStatus.SENT:
            report.sent += 1
        elif status == OutboxStatus.DEAD:
            report.dead += 1
        else:
            report.retrying += 1
    return report
