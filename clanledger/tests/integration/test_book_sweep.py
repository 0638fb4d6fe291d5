"""The permission sweep's declarations for the personal book (``/book``): every signed-in
user reaches their own book; nobody else's rows (``test_book_privacy.py`` checks ids)."""

from __future__ import annotations

from sweep import LOGIN, expect

expect("book.home", anonymous=LOGIN, user=200)
