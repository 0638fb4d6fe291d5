"""The permission sweep's declarations for the clan link (``/book/clan-link``): every
signed-in user reaches their own link; the page reads only their own characters."""

from __future__ import annotations

from sweep import LOGIN, expect

expect("book.clan_link_page", "GET", anonymous=LOGIN, user=200)
# An empty form chooses no account: the page again, with the message, as a 400.
expect("book.clan_link_enable", "POST", anonymous=LOGIN, user=400)
# Turning off a link that is off removes nothing and goes back to the page.
expect("book.clan_link_disable", "POST", anonymous=LOGIN, user=302)
