"""Recurring rules against a real database (SQLite, and PostgreSQL with TEST_DATABASE_URL):
what a run makes, that it makes each date once (also two runs at the same moment), and
what paused, ended or broken rules do."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clanledger.domain.book.kinds import AccountType, Frequency, TxnKind
from clanledger.extensions import db
from clanledger.models.book import BookPosting, BookRecurring, BookTransaction
from clanledger.services.book import accounts, categories, recurring, recurring_run, transactions
from clanledger.services.book.recurring import RuleInput
from clanledger.services.errors import Conflict, NotFound, ValidationError


@pytest.fixture
def book(app, make_user):
    user = make_user()
    accounts.ensure_book(db.session, user.id)
    cash = accounts.list_accounts(db.session, user.id)[0]
    bank = accounts.create_account(db.session, user.id, "台新", AccountType.BANK)
    card = accounts.create_account(db.session, user.id, "玉山卡", AccountType.CREDIT_CARD)
    housing = categories.by_code(db.session, user.id, "housing")
    salary = categories.by_code(db.session, user.id, "salary")
    return {
        "user": user.id,
        "cash": cash.id,
        "bank": bank.id,
        "card": card.id,
        "housing": housing.id,
        "salary": salary.id,
    }


def rent(book, **changes) -> RuleInput:
    fields = {
        "name": "房租",
        "kind": TxnKind.EXPENSE,
        "amount": "12,000",
        "account_id": book["bank"],
        "frequency": Frequency.MONTHLY,
        "starts_on": date(2026, 1, 31),
        "category_id": book["housing"],
        "payee": "房東",
    }
    fields.update(changes)
    return RuleInput(**fields)


def made(book, rule_id=None) -> list[date]:
    query = select(BookTransaction.occurred_on).where(
        BookTransaction.user_id == book["user"], BookTransaction.deleted_at.is_(None)
    )
    if rule_id is not None:
        query = query.where(BookTransaction.recurring_id == rule_id)
    return sorted(db.session.scalars(query))


def test_a_run_catches_up_every_missed_date_with_month_ends(book):
    rule = recurring.create_rule(db.session, book["user"], rent(book))
    assert rule.next_on == date(2026, 1, 31) and rule.amount == 12000
    report = recurring_run.run_due(db.session, book["user"], date(2026, 5, 1))
    assert made(book, rule.id) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]
    assert len(report.made) == 4 and not report.paused
    rule = db.session.get(BookRecurring, rule.id)
    assert rule.next_on == date(2026, 5, 31)
    txn = db.session.scalar(
        select(BookTransaction).where(
            BookTransaction.source_ref == f"recurring:{rule.id}:2026-02-28"
        )
    )
    assert txn.kind is TxnKind.EXPENSE and txn.payee == "房東"
    assert sorted(p.amount for p in txn.postings) == [-12000, 12000]
    assert accounts.balances(db.session, book["user"])[book["bank"]] == -48000


def test_a_second_run_makes_nothing_and_a_deleted_date_is_not_made_again(book):
    rule = recurring.create_rule(db.session, book["user"], rent(book))
    recurring_run.run_due(db.session, book["user"], date(2026, 3, 31))
    first = made(book, rule.id)
    again = recurring_run.run_due(db.session, book["user"], date(2026, 3, 31))
    assert again.made == [] and made(book, rule.id) == first
    txn_id = db.session.scalar(
        select(BookTransaction.id).where(BookTransaction.occurred_on == date(2026, 2, 28))
    )
    transactions.delete(db.session, book["user"], txn_id)
    # The user's edit moves the schedule back: the deleted date stays deleted.
    recurring.update_rule(db.session, book["user"], rule.id, rent(book, amount="12,500"))
    recurring_run.run_due(db.session, book["user"], date(2026, 3, 31))
    assert made(book, rule.id) == [date(2026, 1, 31), date(2026, 3, 31)]


def test_the_run_is_cheap_and_silent_when_nothing_is_due(book):
    recurring.create_rule(db.session, book["user"], rent(book, starts_on=date(2026, 6, 5)))
    report = recurring_run.run_due(db.session, book["user"], date(2026, 6, 4))
    assert report.made == [] and report.paused == []
    assert made(book) == []


def test_a_paused_rule_makes_nothing_and_resuming_skips_the_paused_dates(book):
    rule = recurring.create_rule(db.session, book["user"], rent(book, starts_on=date(2026, 1, 5)))
    recurring.pause_rule(db.session, book["user"], rule.id)
    assert recurring_run.run_due(db.session, book["user"], date(2026, 4, 10)).made == []
    with pytest.raises(Conflict):
        recurring.pause_rule(db.session, book["user"], rule.id)
    recurring.resume_rule(db.session, book["user"], rule.id, date(2026, 4, 10))
    assert db.session.get(BookRecurring, rule.id).next_on == date(2026, 5, 5)
    recurring_run.run_due(db.session, book["user"], date(2026, 5, 5))
    assert made(book, rule.id) == [date(2026, 5, 5)]
    with pytest.raises(Conflict):
        recurring.resume_rule(db.session, book["user"], rule.id, date(2026, 5, 5))


def test_an_ended_rule_stops_at_its_end_date(book):
    rule = recurring.create_rule(
        db.session,
        book["user"],
        rent(book, starts_on=date(2026, 1, 10), ends_on=date(2026, 3, 9)),
    )
    recurring_run.run_due(db.session, book["user"], date(2026, 12, 31))
    assert made(book, rule.id) == [date(2026, 1, 10), date(2026, 2, 10)]
    assert db.session.get(BookRecurring, rule.id).next_on is None
    assert recurring.list_rules(db.session, book["user"])[0].ended


def test_a_rule_whose_account_was_archived_is_paused_with_the_reason(book):
    rule = recurring.create_rule(db.session, book["user"], rent(book))
    accounts.update_account(db.session, book["user"], book["bank"], "台新", archived=True)
    report = recurring_run.run_due(db.session, book["user"], date(2026, 3, 1))
    assert made(book) == []
    assert [(r[0], r[2]) for r in report.paused] == [(rule.id, recurring_run.ARCHIVED)]
    row = recurring.list_rules(db.session, book["user"])[0]
    assert not row.rule.active
    assert row.reason == recurring_run.ARCHIVED and row.reason_params == {"name": "台新"}
    # Resuming is refused while the account stays archived.
    with pytest.raises(ValidationError):
        recurring.resume_rule(db.session, book["user"], rule.id, date(2026, 3, 1))


def test_a_card_payment_transfer_balances_and_moves_the_debt(book):
    rule = recurring.create_rule(
        db.session,
        book["user"],
        RuleInput(
            name="繳卡費",
            kind="transfer",
            amount="5000",
            account_id=book["bank"],
            to_account_id=book["card"],
            frequency="monthly",
            day=20,
            starts_on=date(2026, 1, 1),
        ),
    )
    recurring_run.run_due(db.session, book["user"], date(2026, 2, 20))
    assert made(book, rule.id) == [date(2026, 1, 20), date(2026, 2, 20)]
    sums = db.session.execute(
        select(BookPosting.transaction_id, func.sum(BookPosting.amount)).group_by(
            BookPosting.transaction_id
        )
    ).all()
    assert sums and all(total == 0 for _txn, total in sums)
    balances = accounts.balances(db.session, book["user"])
    assert balances[book["bank"]] == -10000 and balances[book["card"]] == 10000


def test_catching_up_is_capped_and_the_rule_paused_with_the_reason(book):
    rule = recurring.create_rule(
        db.session,
        book["user"],
        rent(book, frequency="weekly", starts_on=date(2020, 1, 6), amount="50"),
    )
    report = recurring_run.run_due(db.session, book["user"], date(2026, 1, 1))
    dates = made(book, rule.id)
    assert len(dates) == recurring_run.MAX_CATCH_UP
    assert dates[0] == date(2020, 1, 6)
    assert report.paused and report.paused[0][2] == recurring_run.CAPPED
    assert report.paused[0][3]["last"] == dates[-1].isoformat()
    assert not db.session.get(BookRecurring, rule.id).active


def test_a_run_stops_a_rule_the_ledger_refuses_and_says_why(book, monkeypatch):
    rule = recurring.create_rule(db.session, book["user"], rent(book))

    def refuse(*args, **kwargs):
        raise ValidationError("Choose one of your categories.", field="category")

    monkeypatch.setattr(transactions, "build_lines", refuse)
    report = recurring_run.run_due(db.session, book["user"], date(2026, 2, 1))
    assert report.paused[0][2] == recurring_run.REFUSED
    assert report.paused[0][3] == {
        "date": "2026-01-31",
        "error": "Choose one of your categories.",
    }
    assert made(book) == [] and not db.session.get(BookRecurring, rule.id).active


def test_two_runs_at_the_same_moment_make_each_date_once(app, book):
    rule = recurring.create_rule(db.session, book["user"], rent(book))
    rule_id, user_id = rule.id, book["user"]
    db.session.remove()
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def run() -> None:
        start.wait()
        with app.app_context(), Session(db.engine) as session:
            try:
                report = recurring_run.run_due(session, user_id, date(2026, 6, 30))
                outcomes.append(f"made {len(report.made)}")
            except Conflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["made 0", "made 6"]
    assert made(book, rule_id) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
        date(2026, 6, 30),
    ]


def test_a_run_that_loses_the_unique_key_race_looks_again(book, monkeypatch):
    """The other run commits between this run's look and its insert: the unique key
    refuses the duplicate, and the retry finds the dates made."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite holds the write lock from the first read: no second writer runs")
    rule = recurring.create_rule(db.session, book["user"], rent(book))
    real = recurring_run._existing
    calls = {"n": 0}

    def stale_look(session, user_id, rule_row, due):
        calls["n"] += 1
        if calls["n"] == 1:
            # Another writer commits the first date meanwhile (the rule row is locked by
            # this run, so it writes the transaction without the lock, as a race would).
            with Session(db.engine) as other:
                transactions.record(
                    other,
                    user_id,
                    recurring_run._draft(other.get(BookRecurring, rule_row.id), due[0]),
                    source_ref=recurring_run.source_ref(rule_row.id, due[0]),
                    recurring_id=rule_row.id,
                )
            return set()
        return real(session, user_id, rule_row, due)

    monkeypatch.setattr(recurring_run, "_existing", stale_look)
    recurring_run.run_due(db.session, book["user"], date(2026, 2, 28))
    assert made(book, rule.id) == [date(2026, 1, 31), date(2026, 2, 28)]


def test_due_users_lists_only_users_with_an_active_due_rule(book, make_user):
    other = make_user()
    accounts.ensure_book(db.session, other.id)
    recurring.create_rule(db.session, book["user"], rent(book))
    assert recurring_run.due_users(db.session, date(2026, 1, 30)) == []
    assert recurring_run.due_users(db.session, date(2026, 1, 31)) == [book["user"]]


def test_upcoming_lists_the_next_thirty_days_of_every_active_rule(book):
    recurring.create_rule(db.session, book["user"], rent(book, starts_on=date(2026, 3, 1), day=31))
    recurring.create_rule(
        db.session,
        book["user"],
        rent(book, name="Netflix", amount="390", frequency="weekly", starts_on=date(2026, 3, 2)),
    )
    paused = recurring.create_rule(db.session, book["user"], rent(book, name="健身房"))
    recurring.pause_rule(db.session, book["user"], paused.id)
    soon = recurring.upcoming(db.session, book["user"], date(2026, 3, 10))
    assert [(u.on, u.rule.name) for u in soon] == [
        (date(2026, 3, 16), "Netflix"),
        (date(2026, 3, 23), "Netflix"),
        (date(2026, 3, 30), "Netflix"),
        (date(2026, 3, 31), "房租"),
        (date(2026, 4, 6), "Netflix"),
    ]
    assert soon[0].currency == "TWD" and soon[0].digits == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"kind": "opening"}, "kind"),
        ({"kind": "nonsense"}, "kind"),
        ({"amount": "0"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "12.5"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "9" * 30}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": True}, "amount"),
        ({"frequency": "daily"}, "frequency"),
        ({"every": 0}, "every"),
        ({"every": 53}, "every"),
        ({"day": 32}, "day"),
        ({"day": 0}, "day"),
        ({"starts_on": date(1969, 12, 31)}, "starts_on"),
        ({"ends_on": date(2026, 1, 1)}, "ends_on"),
        ({"account_id": 999999}, "account_id"),
        ({"category_id": None}, "category_id"),
        ({"category_id": 999999}, "category_id"),
        ({"payee": "p" * 129}, "payee"),
        ({"kind": "transfer", "category_id": None}, "to_account_id"),
    ],
)
def test_bad_rules_are_refused_with_the_field(book, changes, field):
    with pytest.raises(ValidationError) as refused:
        recurring.create_rule(db.session, book["user"], rent(book, **changes))
    assert refused.value.field == field
    assert db.session.scalar(select(func.count()).select_from(BookRecurring)) == 0


def test_rules_refuse_the_wrong_category_kind_and_odd_transfers(book, make_user):
    with pytest.raises(ValidationError):
        recurring.create_rule(db.session, book["user"], rent(book, category_id=book["salary"]))
    usd = accounts.create_account(db.session, book["user"], "USD", AccountType.BANK, "USD")
    for target in (book["bank"], usd.id):
        with pytest.raises(ValidationError) as refused:
            recurring.create_rule(
                db.session,
                book["user"],
                rent(book, kind="transfer", category_id=None, to_account_id=target),
            )
        assert refused.value.field == "to_account_id"


def test_another_users_rule_is_not_found(book, make_user):
    rule = recurring.create_rule(db.session, book["user"], rent(book))
    other = make_user()
    accounts.ensure_book(db.session, other.id)
    for action in (
        lambda: recurring.get_rule(db.session, other.id, rule.id),
        lambda: recurring.pause_rule(db.session, other.id, rule.id),
        lambda: recurring.delete_rule(db.session, other.id, rule.id),
        lambda: recurring.update_rule(db.session, other.id, rule.id, rent(book)),
    ):
        with pytest.raises(NotFound):
            action()
    # Nor can a rule point at another user's account.
    with pytest.raises(ValidationError):
        recurring.create_rule(db.session, other.id, rent(book))


def test_deleting_a_rule_keeps_its_transactions(book):
    rule = recurring.create_rule(db.session, book["user"], rent(book))
    recurring_run.run_due(db.session, book["user"], date(2026, 2, 28))
    recurring.delete_rule(db.session, book["user"], rule.id)
    assert db.session.get(BookRecurring, rule.id) is None
    assert made(book) == [date(2026, 1, 31), date(2026, 2, 28)]


def test_a_stale_version_is_refused(book):
    rule = recurring.create_rule(db.session, book["user"], rent(book))
    version = rule.version
    recurring.update_rule(db.session, book["user"], rule.id, rent(book, amount="13000"))
    with pytest.raises(Conflict):
        recurring.pause_rule(db.session, book["user"], rule.id, expected_version=version)
