"""The permission sweep's declarations for the REST API and the account's token page.

A browser session never authenticates the API: every visitor with only a cookie gets 401
(``test_api.py`` checks what each role sees with a token)."""

from __future__ import annotations

from sweep import LOGIN, ClanSide, expect, sample

from clanledger.extensions import db
from clanledger.services import api_tokens


@sample("token_id")
def a_token(side: ClanSide) -> int:
    """A token of the clan's leader: revoking it is refused to everyone else (404 as a
    message, then back to their own list)."""
    token, _secret = api_tokens.create_token(db.session, side.leader.id, "bot", "read", None)
    return token.id


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
):
    expect(endpoint, anonymous=401, user=401)
expect("api-docs.openapi_json", anonymous=200, user=200)
expect("api_docs.docs_page", anonymous=200, user=200)
expect("tokens.index", "GET", anonymous=LOGIN, user=200)
expect("tokens.index", "POST", anonymous=LOGIN, user=400)
expect("tokens.revoke", anonymous=LOGIN, user=302)
