"""Opaque cursors: a list answers ``next_cursor``, sent back as ``cursor`` for the next page.

The cursor names the list it belongs to and the position after the last item given; it is
base64 text a client stores and returns, never builds.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any, TypeVar

from flask_babel import gettext
from werkzeug.exceptions import UnprocessableEntity

from clanledger.domain.messages import N_

T = TypeVar("T")
MAX_OFFSET = 10**6
NOT_A_CURSOR = N_("Not a cursor of this list: send back the next_cursor a page gave.")


def encode_cursor(kind: str, offset: int) -> str:
    raw = json.dumps({"l": kind, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None) -> int:
    """The offset ``cursor`` points at in list ``kind`` (0 without a cursor); a cursor that
    this list did not give is 422."""
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        offset = data["o"]
        valid = data["l"] == kind and type(offset) is int and 0 <= offset <= MAX_OFFSET
    except (binascii.Error, ValueError, TypeError, KeyError):
        valid = False
    if not valid:
        error = UnprocessableEntity()
        error.data = {"messages": {"query": {"cursor": [gettext(NOT_A_CURSOR)]}}}
        raise error
    return offset


def page(kind: str, items: Sequence[T], cursor: str | None, limit: int) -> dict[str, Any]:
    """One page of ``items`` from ``cursor``: ``{"items": [...], "next_cursor": str | None}``."""
    start = decode_cursor(kind, cursor)
    end = start + limit
    return {
        "items": list(items[start:end]),
        "next_cursor": encode_cursor(kind, end) if end < len(items) else None,
    }
