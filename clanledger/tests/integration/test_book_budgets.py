"""Budgets against a real database: what counts as spent, which row is in force, copying
last month, the command and the pages (many bad inputs: 4xx, never 500)."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner

from clanledger.domain.book.entries import Split
from clanledger.domain.book.kinds import AccountType, TxnKind
from clanledger.extensions import db
from clanledger.services.book import accounts, budgets, categories, recurring, transactions
from clanledger.services.book.recurring import RuleInput
from clanledger.services.book.transactions import Draft
from clanledger.services.errors import NotFound, ValidationError

MARCH = date(2026, 3, 1)


@pytest.fixture
def book(app, make_user):
    user = make_user()
    accounts.ensure_book(db.session, user.id)
    uid = user.id
    cash = accounts.list_accounts(db.session, uid)[0].id
    bank = accounts.create_account(db.session, uid, "台新", AccountType.BANK).id
    cat = {
        c: categories.by_code(db.session, uid, c).id for c in ("food", "lunch", "games", "salary")
    }
    return {"user": user, "uid": uid, "cash": cash, "bank": bank, **cat}


def spend(book, amount, category, on=date(2026, 3, 10), kind=TxnKind.EXPENSE, splits=()):
    draft = Draft(kind, on, book["cash"], amount, category_id=category, splits=tuple(splits))
    return transactions.record(db.session, book["uid"], draft)


def line_for(data, category_id):
    return next(line for line in data.lines if line.category.id == category_id)


def test_spent_counts_subcategories_refunds_and_skips_transfers_deleted_and_other_months(book):
    budgets.set_budget(db.session, book["uid"], book["food"], "5,000", None)
    spend(book, 1200, book["food"])
    spend(book, 300, book["lunch"])
    # A refund line (negative) inside a split reduces the spending.
    spend(book, 100, None, splits=[Split(book["food"], 250), Split(book["lunch"], -150)])
    gone = spend(book, 999, book["food"])
    transactions.delete(db.session, book["uid"], gone.id)
    spend(book, 777, book["food"], on=date(2026, 4, 1))
    spend(book, 666, book["food"], on=date(2026, 2, 28))
    transfer = Draft(
        TxnKind.TRANSFER, date(2026, 3, 5), book["cash"], 2000, to_account_id=book["bank"]
    )
    transactions.record(db.session, book["uid"], transfer)
    income = Draft(
        TxnKind.INCOME, date(2026, 3, 5), book["bank"], 50000, category_id=book["salary"]
    )
    transactions.record(db.session, book["uid"], income)
    data = budgets.month_budgets(db.session, book["uid"], MARCH, date(2026, 3, 15))
    line = line_for(data, book["food"])
    assert line.status.spent == 1200 + 300 + 250 - 150
    assert line.status.limit == 5000 and line.status.left == 5000 - 1600
    assert line.every_month and not line.status.over
    assert data.total_spent == 1600 and data.total_left == 3400
    assert data.pace_percent == 15 * 100 // 31 and line.pace == 5000 * 15 // 31


def test_a_months_own_budget_wins_and_removing_it_brings_back_every_month(book):
    every = budgets.set_budget(db.session, book["uid"], book["games"], "1000", None)
    own = budgets.set_budget(db.session, book["uid"], book["games"], "300", MARCH)
    spend(book, 450, book["games"])
    march = budgets.month_budgets(db.session, book["uid"], MARCH, date(2026, 3, 31))
    line = line_for(march, book["games"])
    assert line.budget.id == own.id and line.status.over and line.status.left == -150
    assert line.pace == 300  # the month is over: the whole limit
    april = budgets.month_budgets(db.session, book["uid"], date(2026, 4, 1), date(2026, 3, 31))
    assert line_for(april, book["games"]).budget.id == every.id and april.pace_percent == 0
    budgets.remove_budget(db.session, book["uid"], own.id)
    march = budgets.month_budgets(db.session, book["uid"], MARCH, date(2026, 3, 31))
    assert line_for(march, book["games"]).status.limit == 1000
    # Setting it again changes the same row.
    again = budgets.set_budget(db.session, book["uid"], book["games"], "1,200", None)
    assert again.id == every.id and again.amount == 1200


def test_a_subcategory_budget_counts_only_itself(book):
    budgets.set_budget(db.session, book["uid"], book["lunch"], "2000", MARCH)
    spend(book, 500, book["food"])
    spend(book, 120, book["lunch"])
    data = budgets.month_budgets(db.session, book["uid"], MARCH, date(2026, 3, 2))
    assert line_for(data, book["lunch"]).status.spent == 120


def test_spending_from_an_account_with_more_decimals_is_shown_exactly(book):
    precise = accounts.create_account(db.session, book["uid"], "零錢包", "cash", "TWD", 2)
    budgets.set_budget(db.session, book["uid"], book["food"], "100", MARCH)
    draft = Draft(TxnKind.EXPENSE, date(2026, 3, 3), precise.id, 1050, category_id=book["food"])
    transactions.record(db.session, book["uid"], draft)
    spend(book, 20, book["food"])
    data = budgets.month_budgets(db.session, book["uid"], MARCH, date(2026, 3, 3))
    line = line_for(data, book["food"])
    assert line.digits == 2 and line.status.limit == 10000 and line.status.spent == 3050


def test_copy_last_month_keeps_this_months_own_rows(book):
    budgets.set_budget(db.session, book["uid"], book["food"], "5000", date(2026, 2, 1))
    budgets.set_budget(db.session, book["uid"], book["games"], "800", date(2026, 2, 1))
    budgets.set_budget(db.session, book["uid"], book["games"], "500", MARCH)
    assert budgets.copy_last_month(db.session, book["uid"], MARCH) == 1
    assert budgets.copy_last_month(db.session, book["uid"], MARCH) == 0
    data = budgets.month_budgets(db.session, book["uid"], MARCH, date(2026, 3, 1))
    assert line_for(data, book["food"]).status.limit == 5000
    assert line_for(data, book["games"]).status.limit == 500


@pytest.mark.parametrize("amount", ["", "0", "-100", "abc", "1.5", "9" * 30, "NaN", 0, True])
def test_bad_budget_amounts_are_refused(book, amount):
    with pytest.raises(ValidationError):
        budgets.set_budget(db.session, book["uid"], book["food"], amount, MARCH)


def test_budgets_are_for_the_users_own_expense_categories(book, make_user):
    with pytest.raises(ValidationError):
        budgets.set_budget(db.session, book["uid"], book["salary"], "100", MARCH)
    other = make_user()
    accounts.ensure_book(db.session, other.id)
    with pytest.raises(NotFound):
        budgets.set_budget(db.session, other.id, book["food"], "100", MARCH)
    row = budgets.set_budget(db.session, book["uid"], book["food"], "100", MARCH)
    with pytest.raises(NotFound):
        budgets.remove_budget(db.session, other.id, row.id)
    with pytest.raises(ValidationError):
        budgets.set_budget(db.session, book["uid"], book["food"], "100", date(1969, 12, 1))


# ------------------------------------------------------------------------------ command


def rule(book, **changes) -> RuleInput:
    fields = dict(
        name="房租",
        kind="expense",
        amount="12000",
        account_id=book["bank"],
        category_id=book["food"],
        frequency="monthly",
        starts_on=date(2026, 1, 31),
    )
    fields.update(changes)
    return RuleInput(**fields)


def test_the_command_makes_what_is_due_for_every_user_once(app, book):
    recurring.create_rule(db.session, book["uid"], rule(book))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["book-recurring", "--date", "2026-03-31"])
    assert result.exit_code == 0, result.output
    assert "3 transaction(s) made" in result.output
    again = runner.invoke(args=["book-recurring", "--date", "2026-03-31"])
    assert again.exit_code == 0 and "0 transaction(s) made" in again.output


@pytest.mark.parametrize("value", ["tomorrow", "2026-02-30", "1969-12-31", "3000-01-01", ""])
def test_the_command_refuses_a_bad_date(app, value):
    result = app.test_cli_runner().invoke(args=["book-recurring", "--date", value])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--date" in result.output or "date" in result.output.lower()


def test_the_command_explains_itself(app):
    result = app.test_cli_runner().invoke(args=["book-recurring", "--help"])
    assert result.exit_code == 0 and "recurring" in result.output and "--date" in result.output
    assert isinstance(CliRunner, type)


# ------------------------------------------------------------------------------ pages


def test_the_pages_show_budgets_recurring_and_the_home_panel(client, login, book):
    budgets.set_budget(db.session, book["uid"], book["games"], "100", None)
    spend(book, 150, book["games"], on=date.today())
    recurring.create_rule(db.session, book["uid"], rule(book, starts_on=date(2999, 1, 5)))
    login(book["user"])
    page = client.get("/book/budgets")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'class="progress-bar bg-danger"' in text and ("超支" in text or "Over by" in text)
    assert client.get("/book/recurring").status_code == 200
    home = client.get("/book").get_data(as_text=True)
    assert 'id="home-budgets"' in home and 'id="home-upcoming"' in home


def test_visiting_the_book_makes_the_due_transactions(client, login, book):
    made = recurring.create_rule(db.session, book["uid"], rule(book, starts_on=date(2026, 1, 5)))
    login(book["user"])
    assert client.get("/book").status_code == 200
    db.session.expire_all()
    assert recurring.get_rule(db.session, book["uid"], made.id).next_on > date(2026, 11, 5)


def test_a_rule_is_created_edited_paused_resumed_and_deleted_through_the_pages(client, login, book):
    login(book["user"])
    form = {
        "name": "Spotify",
        "kind": "expense",
        "amount": "１４９",
        "account_id": str(book["cash"]),
        "category_id": str(book["games"]),
        "to_account_id": "",
        "frequency": "monthly",
        "every": "1",
        "day": "31",
        "starts_on": "2099-01-31",
    }
    assert client.post("/book/recurring/new", data=form).status_code == 302
    [row] = recurring.list_rules(db.session, book["uid"])
    assert row.rule.amount == 149 and row.rule.day == 31
    edit = f"/book/recurring/{row.rule.id}/edit"
    assert client.get(edit).status_code == 200
    changed = {**form, "amount": "159", "version": str(row.rule.version)}
    assert client.post(edit, data=changed).status_code == 302
    stale = client.post(edit, data=changed)  # the version read before is gone
    assert stale.status_code == 409
    for action in ("pause", "resume", "delete"):
        assert client.post(f"/book/recurring/{row.rule.id}/{action}").status_code == 302
    assert recurring.list_rules(db.session, book["uid"]) == []


BAD_RULE_FIELDS = [
    {"amount": ""},
    {"amount": "0"},
    {"amount": "-1"},
    {"amount": "1e400"},
    {"amount": "12.5"},
    {"amount": "x" * 50},
    {"account_id": "abc"},
    {"account_id": "99999999"},
    {"account_id": "99999999999999999999"},
    {"category_id": "999999"},
    {"category_id": "-1"},
    {"kind": "opening"},
    {"kind": "transfer"},
    {"frequency": "hourly"},
    {"every": "0"},
    {"every": "999999999999"},
    {"every": "abc"},
    {"day": "32"},
    {"day": "-1"},
    {"starts_on": "2026-02-30"},
    {"starts_on": "0001-01-01"},
    {"starts_on": ""},
    {"ends_on": "2000-01-01"},
    {"name": ""},
    {"name": "n" * 100},
    {"payee": "p" * 200},
]


@pytest.mark.parametrize("bad", BAD_RULE_FIELDS, ids=lambda bad: str(bad)[:40])
def test_bad_rule_forms_are_refused_with_4xx(client, login, book, bad):
    login(book["user"])
    form = {
        "name": "房租",
        "kind": "expense",
        "amount": "12000",
        "account_id": str(book["cash"]),
        "category_id": str(book["food"]),
        "frequency": "monthly",
        "every": "1",
        "starts_on": "2026-01-05",
        **bad,
    }
    response = client.post("/book/recurring/new", data=form)
    assert response.status_code in (400, 409), response.status_code
    assert recurring.list_rules(db.session, book["uid"]) == []


@pytest.mark.parametrize(
    "query",
    ["month=2026-13", "month=abc", "month=0000-01", "month=9999-12", "month=2026-1-1", "month=%00"],
)
def test_bad_months_are_refused_with_4xx(client, login, book, query):
    login(book["user"])
    assert client.get(f"/book/budgets?{query}").status_code == 400


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"category_id": "abc", "amount": "100"},
        {"category_id": "999999", "amount": "100"},
        {"amount": "100"},
        {"category_id": "{food}", "amount": ""},
        {"category_id": "{food}", "amount": "-5"},
        {"category_id": "{food}", "amount": "0"},
        {"category_id": "{food}", "amount": "1.25"},
        {"category_id": "{food}", "amount": "9" * 39},
        {"category_id": "{salary}", "amount": "100"},
        {"category_id": "{food}", "amount": "100", "scope": "weird"},
    ],
)
def test_bad_budget_forms_are_refused_with_4xx(client, login, book, form):
    login(book["user"])
    data = {k: v.format(**book) if isinstance(v, str) else v for k, v in form.items()}
    response = client.post("/book/budgets?month=2026-03", data=data)
    assert response.status_code in (400, 409)
    assert budgets.budget_rows(db.session, book["uid"]) == []


def test_budget_set_copy_and_remove_through_the_pages(client, login, book):
    login(book["user"])
    data = {"category_id": str(book["food"]), "amount": "3,000", "scope": "month"}
    assert client.post("/book/budgets?month=2026-02", data=data).status_code == 302
    assert client.post("/book/budgets/copy?month=2026-03").status_code == 302
    rows = budgets.budget_rows(db.session, book["uid"])
    assert [(r.month, r.amount) for r in rows] == [(date(2026, 2, 1), 3000), (MARCH, 3000)]
    assert client.post(f"/book/budgets/{rows[1].id}/delete").status_code == 302
    assert len(budgets.budget_rows(db.session, book["uid"])) == 1
