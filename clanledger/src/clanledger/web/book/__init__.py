"""The personal book (記帳) under ``/book``: private to the signed-in user.

Every view is a :func:`~clanledger.web.book.common.book_view`: login required, and the
services it calls reach only the signed-in user's rows (another user's id is a 404). The
route modules below add their views to :data:`bp`.
"""

from __future__ import annotations

from clanledger.web.book import (  # noqa: F401  (each registers its views on bp)
    accounts,
    entry,
    imports,
    link,
    plans,
    reports,
    transactions,
)
from clanledger.web.book.common import bp

__all__ = ["bp"]
