"""The permission sweep's declarations for the book's budgets and recurring pages: the rows
belong to ``side.member``; everyone else gets 404 for them (nothing leaks)."""

from __future__ import annotations

from datetime import date

from sweep import LOGIN, ClanSide, expect, sample

from clanledger.extensions import db
from clanledger.services.book import accounts, budgets, categories, recurring
from clanledger.services.book.recurring import RuleInput


def _book(side: ClanSide) -> tuple[int, int]:
    user_id = side.member.id
    accounts.ensure_book(db.session, user_id)
    account = accounts.list_accounts(db.session, user_id)[0]
    food = categories.by_code(db.session, user_id, "food")
    return account.id, food.id


@sample("rule_id")
def a_rule(side: ClanSide) -> int:
    account_id, food_id = _book(side)
    rule = recurring.create_rule(
        db.session,
        side.member.id,
        RuleInput(
            name="Netflix",
            kind="expense",
            amount="390",
            account_id=account_id,
            category_id=food_id,
            frequency="monthly",
            starts_on=date(2999, 1, 1),
        ),
    )
    return rule.id


@sample("budget_id")
def a_budget(side: ClanSide) -> int:
    _account_id, food_id = _book(side)
    return budgets.set_budget(db.session, side.member.id, food_id, "5000", None).id


expect("book.budgets_page", anonymous=LOGIN, user=200)
# An empty form is shown again with its errors.
expect("book.budget_set", anonymous=LOGIN, user=400)
expect("book.budget_copy", anonymous=LOGIN, user=302)
expect("book.recurring_list", anonymous=LOGIN, user=200)
expect("book.recurring_new", "GET", anonymous=LOGIN, user=200)
expect("book.recurring_new", "POST", anonymous=LOGIN, user=400)
for endpoint in ("book.budget_delete", "book.recurring_pause", "book.recurring_resume"):
    expect(endpoint, anonymous=LOGIN, member=302, officer=404, leader=404, outsider=404)
expect("book.recurring_delete", anonymous=LOGIN, member=302, officer=404, leader=404, outsider=404)
expect(
    "book.recurring_edit", "GET", anonymous=LOGIN, member=200, officer=404, leader=404, outsider=404
)
expect(
    "book.recurring_edit",
    "POST",
    anonymous=LOGIN,
    member=400,
    officer=404,
    leader=404,
    outsider=404,
)
