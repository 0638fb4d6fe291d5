"""Pages of a list: which page to show and how many there are."""

from __future__ import annotations


def page_window(total: int, page: int, per_page: int) -> tuple[int, int, int]:
    """``(page, pages, offset)`` for ``total`` rows: at least one page, and a page number past
    either end shows the first or the last page (nothing is silently empty)."""
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    return page, pages, (page - 1) * per_page
