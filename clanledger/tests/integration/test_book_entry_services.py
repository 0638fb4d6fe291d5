"""The entry part's services: listing with filters, suggestions, month totals, net worth,
the audit trail in words and opening an account with its balance."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from clanledger.domain.book.kinds import AccountType, TxnKind
from clanledger.extensions import db
from clanledger.models.book import BookAccount, BookTransaction
from clanledger.services.book import accounts, categories, history, queries, transactions
from clanledger.services.book.opening import open_account
from clanledger.services.errors import Conflict, NotFound, ValidationError

MARCH = date(2026, 3, 10)


@pytest.fixture
def uid(make_user) -> int:
    user = make_user(locale="zh_Hant")
    accounts.ensure_book(db.session, user.id)
    return user.id


def _cash(uid: int) -> BookAccount:
    return accounts.list_accounts(db.session, uid)[0]


def _spend(uid, amount, code, on=MARCH, account=None, **fields) -> BookTransaction:
    category = categories.by_code(db.session, uid, code)
    draft = transactions.Draft(
        TxnKind.EXPENSE, on, (account or _cash(uid)).id, amount, category_id=category.id, **fields
    )
    return transactions.record(db.session, uid, draft)


def test_list_filters_by_month_parent_category_tag_and_search(uid):
    _spend(uid, 100, "lunch", payee="50%折扣店", tags=("省錢",))
    _spend(uid, 200, "taxi", note="去機場")
    _spend(uid, 300, "lunch", on=date(2026, 4, 1))
    gone = _spend(uid, 400, "lunch")
    transactions.delete(db.session, uid, gone.id)

    def amounts(**kw) -> list[int]:
        page = queries.list_transactions(db.session, uid, queries.Filters(month=MARCH, **kw))
        return sorted(-row.amount for row in page.rows)

    food = categories.by_code(db.session, uid, "food").id
    assert amounts() == [100, 200]  # April and the deleted one left out
    assert amounts(category_id=food) == [100]
    assert amounts(tag="省錢") == [100] and amounts(tag="省") == []
    assert amounts(search="機場") == [200]
    assert amounts(search="50%") == [100] and amounts(search="%") == [100]
    assert amounts(kind=TxnKind.INCOME) == []
    with pytest.raises(NotFound):
        queries.list_transactions(db.session, uid, queries.Filters(account_id=999999))


def test_paging_clamps_and_counts(uid):
    for n in range(7):
        _spend(uid, 10 + n, "snacks")
    page = queries.list_transactions(db.session, uid, queries.Filters(month=MARCH), 99, size=3)
    assert (page.page, page.pages, page.total, len(page.rows)) == (3, 3, 7, 1)


def test_suggestions_put_the_latest_first(uid, make_user):
    wallet = accounts.create_account(db.session, uid, "街口", AccountType.E_WALLET)
    _spend(uid, 60, "drinks", payee="五十嵐")
    _spend(uid, 120, "lunch", payee="八方雲集", account=wallet)
    hints = queries.suggestions(db.session, uid)
    lunch = categories.by_code(db.session, uid, "lunch").id
    drinks = categories.by_code(db.session, uid, "drinks").id
    assert hints.expense_categories[:2] == [lunch, drinks]
    assert hints.payees[:2] == ["八方雲集", "五十嵐"]
    assert hints.payee_category == {"八方雲集": lunch, "五十嵐": drinks}
    assert hints.last_account_id == wallet.id
    other = make_user()
    accounts.ensure_book(db.session, other.id)
    assert queries.suggestions(db.session, other.id).payees == []


def test_month_totals_and_net_worth(uid):
    card = accounts.create_account(db.session, uid, "信用卡", AccountType.CREDIT_CARD)
    _spend(uid, 100, "lunch")
    _spend(uid, 900, "games", account=card)
    salary = categories.by_code(db.session, uid, "salary").id
    draft = transactions.Draft(TxnKind.INCOME, MARCH, _cash(uid).id, 5000, category_id=salary)
    transactions.record(db.session, uid, draft)
    totals = queries.month_totals(db.session, uid, MARCH)
    assert totals.spending == {"TWD": 1000} and totals.income == {"TWD": 5000}
    assert queries.month_totals(db.session, uid, date(2026, 4, 1)).spending == {}
    assert queries.net_worth(db.session, uid) == {"TWD": 5000 - 100 - 900}


def test_audit_in_words_and_which_rows_undo(uid):
    txn = _spend(uid, 120, "lunch", payee="全家")
    draft = transactions.Draft(
        TxnKind.EXPENSE,
        MARCH,
        _cash(uid).id,
        150,
        category_id=categories.by_code(db.session, uid, "dinner").id,
        payee="萊爾富",
    )
    transactions.update(db.session, uid, txn.id, draft, expected_version=txn.version)
    page = history.audit_page(db.session, uid)
    newest = page.rows[0]
    said = [(c.message, c.params) for c in newest.changes]
    assert (
        "%(field)s: %(old)s → %(new)s",
        {"field": "payee", "old": "全家", "new": "萊爾富"},
    ) in said
    assert any(p.get("old") == "TWD 120" and p.get("new") == "TWD 150" for _m, p in said)
    assert any(p.get("old") == "午餐" and p.get("new") == "晚餐" for _m, p in said)
    assert newest.undoable
    transactions.undo(db.session, uid, newest.audit.id)
    with pytest.raises(Conflict):
        transactions.undo(db.session, uid, newest.audit.id)
    assert not history.audit_page(db.session, uid).rows[1].undoable


def test_open_account_with_an_opening_balance(uid):
    card = open_account(db.session, uid, "玉山卡", "credit_card", "TWD", None, 15, "-12,000", MARCH)
    assert accounts.balances(db.session, uid)[card.id] == -12000
    assert card.closing_day == 15
    usd = open_account(db.session, uid, "美金", "bank", "USD", None, None, "100.5", MARCH)
    assert usd.minor_digits == 2 and accounts.balances(db.session, uid)[usd.id] == 10050
    kinds = db.session.scalars(select(BookTransaction.kind).where(BookTransaction.user_id == uid))
    assert sorted(k.value for k in kinds) == ["opening", "opening"]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("現金2", "cash", "TWD", None, None, "1.5"), "opening"),
        (("現金2", "cash", "TWD", None, None, "abc"), "opening"),
        (("現金2", "cash", "TWD", None, None, "9" * 30), "opening"),
        (("現金2", "cash", "XYZ", None, None, ""), "currency"),
        (("現金2", "cash", "TWD", 7, None, ""), "minor_digits"),
        (("", "cash", "TWD", None, None, ""), "name"),
        (("現金2", "stocks", "TWD", None, None, ""), "type"),
    ],
)
def test_open_account_refuses_bad_input_and_stores_nothing(uid, args, field):
    before = len(accounts.list_accounts(db.session, uid, include_archived=True))
    with pytest.raises(ValidationError) as caught:
        open_account(db.session, uid, *args, MARCH)
    assert caught.value.field == field
    db.session.rollback()
    assert len(accounts.list_accounts(db.session, uid, include_archived=True)) == before


def test_a_transfer_between_accounts_of_one_currency_with_different_decimals_is_refused(uid):
    cents = accounts.create_account(db.session, uid, "零錢帳戶", "bank", "TWD", minor_digits=2)
    draft = transactions.Draft(TxnKind.TRANSFER, MARCH, _cash(uid).id, 100, to_account_id=cents.id)
    with pytest.raises(ValidationError) as refused:
        transactions.record(db.session, uid, draft)
    assert refused.value.field == "to"
    assert accounts.balances(db.session, uid) == {}
    same = accounts.create_account(db.session, uid, "郵局", "bank", "TWD")
    ok = transactions.Draft(TxnKind.TRANSFER, MARCH, _cash(uid).id, 100, to_account_id=same.id)
    transactions.record(db.session, uid, ok)
    assert accounts.balances(db.session, uid) == {_cash(uid).id: -100, same.id: 100}
