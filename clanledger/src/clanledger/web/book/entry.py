"""The book's home: every account's balance."""

from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l

from clanledger.extensions import db
from clanledger.services.book import accounts
from clanledger.web.book.common import book_view, bp, home_panels, register_book_tab, user_id

register_book_tab("book.home", _l("Overview"), order=10)


@bp.get("")
@book_view
def home() -> str:
    me = user_id()
    return render_template(
        "book/home.html",
        accounts=accounts.list_accounts(db.session, me),
        balances=accounts.balances(db.session, me),
        panels=home_panels(db.session, me),
    )
