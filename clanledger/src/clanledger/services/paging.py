"""Pages of a list: which page to show and how many there are, and the text search the
lists share."""

from __future__ import annotations


def page_window(total: int, page: int, per_page: int) -> tuple[int, int, int]:
    """``(page, pages, offset)`` for ``total`` rows: at least one page, and a page number past
    either end shows the first or the last page (nothing is silently empty)."""
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    return page, pages, (page - 1) * per_page


LIKE_ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """A ``LIKE`` pattern (escaped with :data:`LIKE_ESCAPE`) matching any text that contains
    ``text`` (trimmed) literally: ``%`` and ``_`` typed in a search are not wildcards."""
    literal = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{literal}%"
