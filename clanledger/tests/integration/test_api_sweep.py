"""The permission sweep's declarations for the REST API and the account's token page.

A browser session never authenticates the API: every visitor with only a cookie gets 401
(``test_api.py`` checks what each role sees with a token)."""

from __future__ import annotations

from datetime import date

from sweep import LOGIN, ClanSide, expect, sample

from clanledger.domain.book.kinds import TxnKind
from clanledger.extensions import db
from clanledger.services import api_tokens
from clanledger.services.book import accounts, categories, transactions


@sample("token_id")
def a_token(side: ClanSide) -> int:
    """A token of the clan's leader: revoking it is refused to everyone else (404 as a
    message, then back to their own list)."""
    token, _secret = api_tokens.create_token(db.session, side.leader.id, "bot", "read", None)
    return token.id


BOOK_TXN_ROUTES = (
    "api.book_transaction",
    "api.book_transaction_edit",
    "api.book_transaction_delete",
)


@sample("txn_id", endpoints=BOOK_TXN_ROUTES)
def a_book_transaction(side: ClanSide) -> int:
    """A lunch in the member's personal book (only their personal token reaches it)."""
    return _a_lunch(side).id


@sample("audit_id", endpoints=("api.book_undo",))
def a_book_deletion(side: ClanSide) -> int:
    """The member's deleted lunch: the audit row an undo takes."""
    return transactions.delete(db.session, side.member.id, _a_lunch(side).id).id


def _a_lunch(side: ClanSide):
    accounts.ensure_book(db.session, side.member.id)
    cash = accounts.list_accounts(db.session, side.member.id)[0]
    lunch = categories.by_code(db.session, side.member.id, "lunch")
    draft = transactions.Draft(
        TxnKind.EXPENSE, date(2026, 12, 1), cash.id, 120, category_id=lunch.id
    )
    return transactions.record(db.session, side.member.id, draft)


for endpoint in (
    "api.me",
    "api.clan_list",
    "api.clan_detail",
    "api.member_list",
    "api.character_list",
    "api.boss_list",
    "api.drop_list",
    "api.drop_detail",
    "api.drop_listing",
    "api.drop_unsold",
    "api.drop_storage",
    "api.drop_sale",
    "api.drop_purchase",
    "api.period_list",
    "api.period_preview",
    "api.statement",
    "api.balance_list",
    "api.kill_list",
    "api.kill_detail",
    "api.kill_create",
    "api.transfer_list",
    "api.transfer_paid",
    "api.transfer_confirm",
    "api.book_account_list",
    "api.book_category_list",
    "api.book_transaction_list",
    "api.book_transaction_create",
    "api.book_undo",
    *BOOK_TXN_ROUTES,
):
    expect(endpoint, anonymous=401, user=401)
expect("api-docs.openapi_json", anonymous=200, user=200)
expect("api_docs.docs_page", anonymous=200, user=200)
expect("tokens.index", "GET", anonymous=LOGIN, user=200)
expect("tokens.index", "POST", anonymous=LOGIN, user=400)
expect("tokens.revoke", anonymous=LOGIN, user=302)
