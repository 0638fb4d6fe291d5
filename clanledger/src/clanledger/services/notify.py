"""Clan-chat notifications: webhooks (officers add them), the outbox (written in the same
transaction as the change it announces) and delivery (``flask deliver``).

Delivery never runs inside a request. A worker claims due rows (``FOR UPDATE SKIP LOCKED``
on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises the claim), commits the claim, sends
with no transaction open, then records the outcome: sent, or another try after an
exponential backoff, or dead after the last try. Every try carries the row's idempotency
key, so a receiver that saw a message drops the repeat.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from babel.numbers import format_decimal
from babel.support import Translations
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clanledger.domain import notify as rules
from clanledger.domain.errors import DomainError
from clanledger.domain.messages import N_
from clanledger.domain.notify import Event, WebhookKind
from clanledger.models import (
    Character,
    Clan,
    Drop,
    DropStatus,
    Kill,
    OutboxMessage,
    OutboxStatus,
    Period,
    Role,
    Transfer,
    Webhook,
)
from clanledger.services import audit, authz
from clanledger.services.errors import NotFound, ValidationError

LOCALES = ("zh_Hant", "en")
MAX_WEBHOOKS = 10
LOG_SIZE = 50
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


@dataclass(frozen=True)
class DeliveryPolicy:
    """How the worker tries: ``max_attempts`` tries, waiting ``base_delay_s`` doubled after
    each failure (at most ``max_delay_s``); a claim lasts ``lease_s``."""

    max_attempts: int = 8
    base_delay_s: float = 30.0
    max_delay_s: float = 3600.0
    timeout_s: float = 10.0
    lease_s: float = 120.0
    batch: int = 20
    public_url: str = ""
    # Off: a webhook whose host resolves to an internal address is not contacted.
    allow_internal: bool = False

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.max_delay_s, self.base_delay_s * 2 ** (attempts - 1)))


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    ids: list[int] = field(default_factory=list)


# -- webhooks ------------------------------------------------------------------------------


def add_webhook(
    session: Session,
    actor_id: int,
    clan_id: int,
    *,
    kind: str,
    url: str,
    events: list[str],
    locale: str,
    unsold_days: int = 7,
    allow_internal: bool = False,
) -> tuple[Webhook, str | None]:
    """Add a webhook (officer). Returns it with the signing secret of a generic webhook,
    which is shown once.

    Raises:
        ValidationError: bad kind, address, event or language; too many webhooks.
    """
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    if kind not in set(WebhookKind):
        raise ValidationError(N_("Choose Discord or a generic JSON endpoint."), field="kind")
    try:
        url = rules.check_url(url, allow_internal=allow_internal)
    except DomainError as exc:
        raise ValidationError(str(exc), field="url") from exc
    chosen = sorted(set(events))
    if not chosen or any(name not in set(Event) for name in chosen):
        raise ValidationError(N_("Choose at least one event from the list."), field="events")
    if locale not in LOCALES:
        raise ValidationError(N_("Choose a language from the list."), field="locale")
    low, high = rules.UNSOLD_DAYS
    if (
        isinstance(unsold_days, bool)
        or not isinstance(unsold_days, int)
        or not low <= unsold_days <= high
    ):
        raise ValidationError(N_("The reminder comes after 1 to 60 days."), field="unsold_days")
    count = len(session.scalars(select(Webhook.id).where(Webhook.clan_id == clan_id)).all())
    if count >= MAX_WEBHOOKS:
        raise ValidationError(N_("A clan has at most 10 webhooks."), field="url")
    secret = secrets.token_hex(32) if kind == WebhookKind.GENERIC else None
    audit.set_actor(session, actor_id)
    webhook = Webhook(
        clan_id=clan_id,
        kind=WebhookKind(kind),
        url=url,
        secret=secret,
        events=" ".join(chosen),
        locale=locale,
        unsold_days=unsold_days,
        created_by_id=actor_id,
    )
    session.add(webhook)
    session.commit()
    return webhook, secret


def remove_webhook(session: Session, actor_id: int, clan_id: int, webhook_id: int) -> None:
    """Remove a webhook and its outbox rows (officer)."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    webhook = session.get(Webhook, webhook_id)
    if webhook is None or webhook.clan_id != clan_id:
        raise NotFound(N_("No such webhook in this clan."))
    audit.set_actor(session, actor_id)
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.webhook_id == webhook.id, OutboxMessage.status != OutboxStatus.SENT)
        .values(status=OutboxStatus.DEAD, last_error="webhook removed")
    )
    webhook.active = False
    session.commit()


def webhooks_page(
    session: Session, actor_id: int, clan_id: int
) -> tuple[list[Webhook], list[OutboxMessage]]:
    """The clan's active webhooks and its last :data:`LOG_SIZE` messages (officer)."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    hooks = session.scalars(
        select(Webhook).where(Webhook.clan_id == clan_id, Webhook.active).order_by(Webhook.id)
    ).all()
    log = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.clan_id == clan_id)
        .order_by(OutboxMessage.id.desc())
        .limit(LOG_SIZE)
    ).all()
    return list(hooks), list(log)


# -- the outbox ----------------------------------------------------------------------------


def enqueue(session: Session, clan: Clan, event: Event, data: Mapping[str, Any]) -> int:
    """Add one outbox row per active webhook of ``clan`` that listens to ``event``, in the
    caller's transaction (the caller commits). Returns how many rows were added."""
    hooks = session.scalars(select(Webhook).where(Webhook.clan_id == clan.id, Webhook.active)).all()
    payload = json.dumps({"clan_name": clan.name, **data}, ensure_ascii=False)
    added = 0
    for hook in hooks:
        if event.value in hook.event_names:
            session.add(
                OutboxMessage(
                    clan_id=clan.id,
                    webhook_id=hook.id,
                    event=event.value,
                    idempotency_key=str(uuid.uuid4()),
                    data=payload,
                )
            )
            added += 1
    return added


def kill_data(clan: Clan, kill: Kill, boss: str) -> dict[str, Any]:
    """What the chat needs of a recorded kill: its boss and check-in code, until when."""
    data = {"clan_id": clan.id, "kill_id": kill.id, "boss": boss, "code": kill.checkin_code}
    data["until"] = local_clock(clan, kill.checkin_until)
    return data


def month_data(period: Period, transfers: Iterable[Any]) -> dict[str, Any]:
    """What the chat needs of a month plan: one entry per transfer (``PlanLine``s)."""
    lines = [
        {"payer": t.payer, "payer_id": t.payer_id, "receiver": t.receiver}
        | {"receiver_id": t.receiver_id, "gross": t.gross, "net": t.net, "seq": t.seq}
        for t in transfers
    ]
    data = {"period_id": period.id, "month": period.starts_on.isoformat(), "transfers": lines}
    return data | {"closed": period.status.value == "closed"}


def announce_transfer(session: Session, clan_id: int, transfer: Transfer, event: Event) -> None:
    """Queue ``event`` (paid or confirmed) of ``transfer`` in the caller's transaction."""
    clan = session.get(Clan, clan_id)
    assert clan is not None

    def name(character_id: int | None) -> str:
        character = session.get(Character, character_id) if character_id else None
        return character.name if character else ""

    data = {"transfer_id": transfer.id, "period_id": transfer.period_id, "seq": transfer.seq}
    data |= {"payer": name(transfer.payer_character_id), "payer_id": transfer.payer_character_id}
    data |= {"receiver": name(transfer.receiver_character_id)}
    data |= {"receiver_id": transfer.receiver_character_id, "net": transfer.net}
    data |= {"gross": transfer.gross if transfer.paid_gross is None else transfer.paid_gross}
    enqueue(session, clan, event, data)


def queue_unsold_reminders(session: Session, now: datetime) -> int:
    """Queue one "item unsold" message per listing of an item still on the exchange
    ``unsold_days`` after it was listed, for each webhook that hears it, and commit. The
    message's key names the webhook, the item and its listing round, so a reminder is
    queued once however many workers look. Returns how many were queued."""
    hooks = session.scalars(select(Webhook).where(Webhook.active)).all()
    queued = 0
    for hook in (h for h in hooks if Event.ITEM_UNSOLD.value in h.event_names):
        due = session.scalars(
            select(Drop).where(
                Drop.clan_id == hook.clan_id,
                Drop.status.in_([DropStatus.LISTED, DropStatus.UNSOLD]),
                Drop.listed_at <= now - timedelta(days=hook.unsold_days),
            )
        ).all()
        for drop in due:
            queued += _queue_reminder(session, hook, drop, now)
    try:
        session.commit()
    except IntegrityError:  # another worker queued the same reminders first
        session.rollback()
        return 0
    return queued


def _queue_reminder(session: Session, hook: Webhook, drop: Drop, now: datetime) -> int:
    key = f"unsold-{hook.id}-{drop.id}-{drop.relist_count}"
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)):
        return 0
    holder = session.get(Character, drop.holder_character_id)
    clan = session.get(Clan, hook.clan_id)
    data = {"drop_id": drop.id, "item": drop.name, "price": drop.asking_price or 0}
    data |= {"days": hook.unsold_days, "holder": holder.name if holder else ""}
    payload = json.dumps({"clan_name": clan.name if clan else "", **data}, ensure_ascii=False)
    session.add(
        OutboxMessage(
            clan_id=hook.clan_id,
            webhook_id=hook.id,
            event=Event.ITEM_UNSOLD.value,
            idempotency_key=key,
            data=payload,
            next_attempt_at=now,
        )
    )
    return 1


def local_clock(clan: Clan, moment: datetime | None) -> str:
    """``moment`` as the clan's wall-clock time ``MM-DD HH:MM`` (empty when unknown)."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(clan.timezone)).strftime("%m-%d %H:%M")


# -- texts ---------------------------------------------------------------------------------


@lru_cache(maxsize=len(LOCALES))
def _catalogue(locale: str) -> Translations:
    return Translations.load(str(TRANSLATIONS), [locale])


def render(event: str, data: Mapping[str, Any], locale: str, public_url: str = "") -> str:
    """The chat text of ``event`` in ``locale``: what happened and what to do."""
    t = _catalogue(locale)

    def n(amount: int) -> str:
        return format_decimal(amount, locale=locale)

    if event == Event.KILL_RECORDED:
        text = t.gettext("%(boss)s killed. Check in with code %(code)s until %(until)s.") % {
            "boss": data["boss"],
            "code": data["code"],
            "until": data["until"],
        }
        if public_url:
            link = f"{public_url.rstrip('/')}/clans/{data['clan_id']}/checkin"
            text += f"\n{link}?{urlencode({'code': data['code']})}"
        return text
    if event == Event.DROP_RECORDED:
        return t.gettext("New drop from %(boss)s: %(item)s, held by %(holder)s.") % data
    if event == Event.SALE_RECORDED:
        return t.gettext("%(item)s sold for %(gross)s diamonds (%(received)s received).") % {
            "item": data["item"],
            "gross": n(data["gross"]),
            "received": n(data["received"]),
        }
    if event == Event.ITEM_UNSOLD:
        return t.gettext(
            "%(item)s has not sold in %(days)s days (asking %(price)s, held by %(holder)s): "
            "lower the price or relist it."
        ) % {**data, "price": n(data["price"])}
    if event == Event.TRANSFER_PAID:
        return t.gettext(
            "%(payer)s bought %(receiver)s's listing at %(gross)s: %(receiver)s, please "
            "confirm that you got the diamonds."
        ) % {**data, "gross": n(data["gross"])}
    if event == Event.TRANSFER_CONFIRMED:
        return t.gettext("%(receiver)s confirmed receiving %(gross)s from %(payer)s.") % {
            **data,
            "gross": n(data["gross"]),
        }
    return _month_text(t, data, locale, n)


def _month_text(t: Translations, data: Mapping[str, Any], locale: str, n: Any) -> str:
    month = format_skeleton("yMMMM", datetime.fromisoformat(data["month"]), locale=locale)
    if not data["transfers"]:
        return t.gettext("%(month)s is closed: no transfers this month.") % {"month": month}
    heading = (
        t.gettext("%(month)s is closed. Transfers to make:")
        if data.get("closed", True)
        else t.gettext("Planned transfers for %(month)s (the month is not closed yet):")
    )
    lines = [heading % {"month": month}]
    for line in data["transfers"]:
        lines.append(
            t.gettext("%(receiver)s: list a junk item at %(gross)s for %(payer)s to buy")
            % {"receiver": line["receiver"], "gross": n(line["gross"]), "payer": line["payer"]}
        )
    return "\n".join(lines)


def request_bodies(message: OutboxMessage, webhook: Webhook, text: str) -> list[bytes]:
    """The HTTP bodies of one message: Discord pieces of at most 2,000 characters, or one
    generic JSON document."""
    if webhook.kind == WebhookKind.DISCORD:
        return [
            json.dumps({"content": piece}, ensure_ascii=False).encode()
            for piece in rules.split_message(text)
        ]
    data = json.loads(message.data)
    body = {
        "id": message.idempotency_key,
        "event": message.event,
        "clan": {"id": message.clan_id, "name": data.pop("clan_name", "")},
        "data": data,
        "text": text,
        "created_at": message.created_at.isoformat(),
    }
    return [json.dumps(body, ensure_ascii=False).encode()]
