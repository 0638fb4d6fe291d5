"""Query-string parameters, read so that no value can reach the database out of range.

A page number is clamped to 1 .. :data:`MAX_PAGE`; an id that is not a whole number in the
id columns' range (1 .. :data:`MAX_ROW_ID`) counts as absent, exactly like a missing one.
"""

from __future__ import annotations

from flask import abort, request

MAX_ROW_ID = 2**31 - 1  # the id columns are 32-bit integers on PostgreSQL
MAX_PAGE = 100_000


def _whole_number(name: str) -> int | None:
    text = (request.args.get(name) or "").strip()
    if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 20:
        return None
    return int(text)


def page_arg(name: str = "page") -> int:
    """The page asked for, 1 when absent or malformed, never beyond :data:`MAX_PAGE`."""
    page = _whole_number(name)
    return 1 if page is None else min(max(page, 1), MAX_PAGE)


def id_arg(name: str) -> int | None:
    """A row id from the query string, or None when absent, malformed or out of range."""
    value = _whole_number(name)
    return value if value is not None and 1 <= value <= MAX_ROW_ID else None


def refuse_nul_characters() -> None:
    """``before_request``: a NUL character in the query string or a form is refused with 400
    (no text column can store it, and no person types it)."""
    values = [*request.args.values(), *request.form.values(), *request.args, *request.form]
    if any("\x00" in value for value in values):
        abort(400)
