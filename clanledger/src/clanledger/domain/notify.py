"""Clan-chat notification rules: the events, the webhook kinds, where a webhook may point,
how a long Discord message is split and how a generic message is signed."""

from __future__ import annotations

import enum
import hashlib
import hmac
import ipaddress
from urllib.parse import urlsplit

from clanledger.domain.errors import DomainError
from clanledger.domain.messages import N_

DISCORD_LIMIT = 2000
SIGNATURE_HEADER = "X-Clanledger-Signature"
TIMESTAMP_HEADER = "X-Clanledger-Timestamp"
DELIVERY_HEADER = "X-Clanledger-Delivery"
MAX_URL_LENGTH = 500
UNSOLD_DAYS = (1, 60)  # the range of a webhook's "unsold for N days"


class WebhookKind(enum.StrEnum):
    DISCORD = "discord"  # {"content": text}
    GENERIC = "generic"  # signed JSON with the event, ids, amounts and the text


class Event(enum.StrEnum):
    KILL_RECORDED = "kill_recorded"
    DROP_RECORDED = "drop_recorded"
    SALE_RECORDED = "sale_recorded"
    MONTH_CLOSED = "month_closed"  # the month plan: one line per transfer
    TRANSFER_PAID = "transfer_paid"
    TRANSFER_CONFIRMED = "transfer_confirmed"
    ITEM_UNSOLD = "item_unsold"  # listed and not sold after the webhook's number of days


EVENT_LABELS = {
    Event.KILL_RECORDED: N_("Kill recorded (with the check-in code)"),
    Event.DROP_RECORDED: N_("Drop recorded"),
    Event.SALE_RECORDED: N_("Sale recorded"),
    Event.MONTH_CLOSED: N_("Month closed (the transfers to make)"),
    Event.TRANSFER_PAID: N_("Transfer paid"),
    Event.TRANSFER_CONFIRMED: N_("Transfer confirmed"),
    Event.ITEM_UNSOLD: N_("Item still unsold after the days below"),
}

_INTERNAL_NAMES = ("localhost", "localhost.localdomain")


def check_url(url: str, *, allow_internal: bool) -> str:
    """The webhook URL, stripped, or :class:`DomainError` with the reason: only http and
    https, a host, at most :data:`MAX_URL_LENGTH` characters, and no loopback, private,
    link-local or reserved address unless ``allow_internal``."""
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise DomainError(N_("A webhook address is 1 to 500 characters."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DomainError(N_("This is not a web address.")) from exc
    del port
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DomainError(N_("A webhook address starts with http:// or https://."))
    if not allow_internal and _internal(parts.hostname):
        raise DomainError(
            N_("This address points inside the server's own network; the server does not allow it.")
        )
    return url


def internal_address(address: str) -> bool:
    """Whether an IP address (as resolved) is loopback, private, link-local or reserved."""
    return not ipaddress.ip_address(address.split("%", 1)[0]).is_global


def _internal(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host in _INTERNAL_NAMES or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 with ``secret`` over ``"<timestamp>." + body``, so a
    captured message cannot be replayed with a fresh timestamp."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def split_message(text: str, limit: int = DISCORD_LIMIT) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at line ends where it can;
    no piece is blank unless ``text`` is."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            candidate = line
        current = candidate
    pieces.append(current)
    # Discord refuses an empty message: blank pieces (between blank lines) are dropped.
    return [piece for piece in pieces if piece.strip()] or [text[:limit]]
