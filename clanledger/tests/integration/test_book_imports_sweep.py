"""The permission sweep's declarations for the book's imports (``/book/imports``): the
sample import belongs to ``side.member``; every other visitor gets 404 for it."""

from __future__ import annotations

from sweep import LOGIN, ClanSide, expect, sample

from clanledger.extensions import db
from clanledger.models.book import BookImport
from clanledger.services.book.accounts import ensure_book, list_accounts


@sample("import_id")
def a_pending_import(side: ClanSide) -> int:
    """A bank CSV the member uploaded and has not confirmed yet."""
    ensure_book(db.session, side.member.id)
    account = list_accounts(db.session, side.member.id)[0]
    row = BookImport(
        user_id=side.member.id,
        source="csv",
        filename="bank.csv",
        status="pending",
        account_id=account.id,
        content="日期,摘要,金額\n2026/12/01,全家,-120\n".encode(),
    )
    db.session.add(row)
    db.session.commit()
    return row.id


expect("book.imports", "GET", anonymous=LOGIN, user=200)
# An empty upload form is shown again with its errors.
expect("book.imports", "POST", anonymous=LOGIN, user=400)
expect(
    "book.import_review", "GET", anonymous=LOGIN, member=200, outsider=404, officer=404, leader=404
)
# An empty mapping form is shown again with its errors (400).
expect(
    "book.import_review", "POST", anonymous=LOGIN, member=400, outsider=404, officer=404, leader=404
)
# Undo of a pending import is refused with a message (302); discard forgets it (302).
expect("book.import_undo", anonymous=LOGIN, member=302, outsider=404, officer=404, leader=404)
expect("book.import_discard", anonymous=LOGIN, member=302, outsider=404, officer=404, leader=404)
