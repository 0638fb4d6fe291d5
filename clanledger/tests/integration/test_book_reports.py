"""Looking back (回顧) through the services and the pages, on the database in use: the
scripted year of ``tests/unit/test_book_reports.py`` recorded as real transactions (the
same hand-computed figures), a deleted one skipped, and bad query parameters refused."""

from __future__ import annotations

from datetime import date

import pytest

from clanledger.domain.book.kinds import AccountType, TxnKind
from clanledger.extensions import db
from clanledger.models.book import BookBudget
from clanledger.services.book import accounts, categories, reports, transactions
from clanledger.services.book.transactions import Draft, Split
from clanledger.services.errors import ValidationError


def _cat(uid: int, code: str) -> int:
    found = categories.by_code(db.session, uid, code)
    assert found is not None, code
    return found.id


def script_year(uid: int) -> dict[str, int]:
    """The hand-made year 2025 (see the unit test) in ``uid``'s book; returns the ids."""
    accounts.ensure_book(db.session, uid)
    cash = accounts.list_accounts(db.session, uid)[0].id
    bank = accounts.create_account(db.session, uid, "銀行", AccountType.BANK).id
    card = accounts.create_account(db.session, uid, "信用卡", AccountType.CREDIT_CARD).id
    dia = accounts.create_account(db.session, uid, "鑽石", AccountType.DIAMONDS, "DIA").id
    c = {
        code: _cat(uid, code)
        for code in (
            "food",
            "lunch",
            "dinner",
            "transport",
            "taxi",
            "rent",
            "salary",
            "bonus",
            "clan_share",
        )
    }

    def add(kind, day, account, amount, payee="", **more):
        draft = Draft(kind, date.fromisoformat(day), account, amount, payee=payee, **more)
        return transactions.record(db.session, uid, draft).id

    E, I = TxnKind.EXPENSE, TxnKind.INCOME  # noqa: E741
    add(TxnKind.OPENING, "2025-01-01", bank, 10_000)
    add(I, "2025-01-05", bank, 50_000, "公司", category_id=c["salary"])
    rent = add(E, "2025-01-06", bank, 15_000, "房東", category_id=c["rent"])
    add(E, "2025-01-10", cash, 120, "7-11", category_id=c["lunch"])
    add(E, "2025-01-10", cash, 300, "台灣大車隊", category_id=c["taxi"])
    splits = (Split(c["dinner"], 500), Split(c["food"], 100))
    add(E, "2025-01-20", card, 600, "全聯", splits=splits)
    add(TxnKind.TRANSFER, "2025-01-25", bank, 5_000, to_account_id=card)
    add(I, "2025-02-05", bank, 50_000, "公司", category_id=c["salary"])
    add(E, "2025-02-06", bank, 15_000, "房東", category_id=c["rent"])
    add(E, "2025-02-14", card, 2_000, "餐廳", category_id=c["dinner"])
    add(E, "2025-02-15", cash, 120, "7-11", category_id=c["lunch"])
    add(I, "2025-03-05", bank, 20_000, category_id=c["bonus"])
    add(E, "2025-03-10", cash, 250, "台灣大車隊", category_id=c["taxi"])
    gone = add(E, "2025-03-11", cash, 120, "7-11", category_id=c["lunch"])
    transactions.delete(db.session, uid, gone)  # deleted: in no figure
    add(E, "2025-12-31", cash, 80, "7-11", category_id=c["lunch"])
    add(I, "2025-06-01", dia, 3_000, "血盟", category_id=c["clan_share"])
    db.session.add_all(
        [
            BookBudget(user_id=uid, category_id=c["food"], month=None, amount=700, currency="TWD"),
            BookBudget(
                user_id=uid,
                category_id=c["food"],
                month=date(2025, 2, 1),
                amount=3_000,
                currency="TWD",
            ),
            BookBudget(user_id=uid, category_id=c["transport"], amount=250, currency="TWD"),
            BookBudget(user_id=uid, category_id=c["lunch"], amount=100, currency="TWD"),
        ]
    )
    db.session.commit()
    return {**c, "rent_txn": rent, "dia": dia}


@pytest.fixture
def scripted(app, make_user):
    user = make_user(locale="zh_Hant")
    ids = script_year(user.id)
    return user, ids


def test_month_report_from_the_database(scripted):
    user, c = scripted
    report = reports.month(db.session, user.id, date(2025, 1, 1), None)
    # the unit test's January: 50,000 in, 16,020 out; 936 / 45 / 19 permille
    assert (report.currency, report.income, report.spending) == ("TWD", 50_000, 16_020)
    housing = _cat(user.id, "housing")
    assert [(x.category_id, x.amount, x.permille, x.percent) for x in report.categories] == [
        (housing, 15_000, 936, 94),
        (c["food"], 720, 45, 4),
        (c["transport"], 300, 19, 2),
    ]
    assert [e.amount for e in report.biggest] == [15_000, 600, 300, 120]
    assert {(b.category_id, b.spent, b.over) for b in report.budgets} == {
        (c["food"], 720, True),
        (c["transport"], 300, True),
        (c["lunch"], 120, True),
    }
    march = reports.month(db.session, user.id, date(2025, 3, 1), "twd")
    # the deleted lunch of March 11 is not there: only the taxi 250
    assert (march.income, march.spending) == (20_000, 250)


def test_year_and_review_from_the_database(scripted):
    user, c = scripted
    year = reports.year(db.session, user.id, 2025, None, date(2026, 1, 15))
    assert (year.income, year.spending, year.net) == (120_000, 33_470, 86_530)
    assert [(b.category_id, b.hits, b.misses) for b in year.budgets] == sorted(
        [(c["food"], 11, 1), (c["transport"], 11, 1), (c["lunch"], 10, 2)]
    )
    found = reports.review(db.session, user.id, 2025, None, date(2026, 1, 15))
    assert (found.saving_permille, found.no_spend_days, found.longest_streak) == (721, 357, 295)
    assert (found.top_payee.payee, found.top_payee.count) == ("7-11", 3)
    assert found.biggest_expense.txn_id == c["rent_txn"]
    assert found.transactions == 13
    assert found.clan_diamonds == 3_000
    dia = reports.month(db.session, user.id, date(2025, 6, 1), "DIA")
    assert (dia.income, dia.spending) == (3_000, 0)


@pytest.mark.parametrize("code", ["XYZ", "USD", "", "T W D", "💎"])
def test_a_currency_the_book_does_not_use_is_refused(scripted, code):
    user, _ = scripted
    if code == "":
        assert reports.pick_currency(db.session, user.id, code) == "TWD"
        return
    with pytest.raises(ValidationError):
        reports.pick_currency(db.session, user.id, code)


@pytest.mark.parametrize(
    "text",
    [
        "2026-13",
        "2026-00",
        "abc",
        "2026",
        "2026-1-1",
        "0999-01",
        "3000-01",
        "２０２６-01",
        "-2026-01",
        "2026-+1",
        "9" * 40,
    ],
)
def test_bad_months_are_refused(text):
    with pytest.raises(ValidationError):
        reports.parse_month(text, date(2026, 5, 3))


def test_months_and_years_parse():
    assert reports.parse_month("2026-5", date(2026, 1, 1)) == date(2026, 5, 1)
    assert reports.parse_month(None, date(2026, 1, 9)) == date(2026, 1, 1)
    assert reports.parse_year("2024", date(2026, 1, 1)) == 2024
    assert reports.parse_year("", date(2026, 1, 1)) == 2026


PAGES = [
    ("/book/reports?month=2025-01", ["16,020", "房東", "全聯", "93.6%", "<svg", "<title"]),
    ("/book/reports?month=2025-06&currency=DIA", ["3,000"]),
    ("/book/reports/year?year=2025", ["120,000", "33,470", "86,530", "<svg"]),
    ("/book/reports/review?year=2025", ["72.1%", "7-11", "295", "3,000"]),
    ("/book/reports", []),
    ("/book/reports/year", []),
    ("/book/reports/review", []),
    ("/book/export", ["csrf_token"]),
]


@pytest.mark.parametrize(("url", "shown"), PAGES)
def test_pages_render(scripted, login, url, shown):
    user, _ = scripted
    response = login(user).get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for text in shown:
        assert text in html, text


def test_the_month_page_has_an_accessible_chart_and_its_table(scripted, login):
    user, _ = scripted
    html = login(user).get("/book/reports?month=2025-01").get_data(as_text=True)
    assert 'role="img"' in html and "aria-label" in html
    assert 'id="category-table"' in html
    assert 'stroke-dasharray="936 64"' in html  # the donut's housing slice
    assert "回顧" in html


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/book/reports?month=2026-13", 400),
        ("/book/reports?month=abc", 400),
        ("/book/reports?month=2026-02-30", 400),
        ("/book/reports?currency=XYZ", 400),
        ("/book/reports?currency=%F0%9F%92%8E", 400),
        ("/book/reports/year?year=abc", 400),
        ("/book/reports/year?year=99999", 400),
        ("/book/reports/year?year=0", 400),
        ("/book/reports/year?year=-1", 400),
        ("/book/reports/year?currency=XYZ", 400),
        ("/book/reports/review?year=abc", 400),
        ("/book/reports/review?year=1969", 400),
        ("/book/reports/review?currency=usd", 400),
    ],
)
def test_bad_parameters_are_4xx_with_a_message(app, make_user, login, url, status):
    user = make_user(locale="en")
    response = login(user).get(url)
    assert response.status_code == status
    body = response.get_data(as_text=True)
    assert "not a" in body or "no amounts" in body


def test_reports_are_private(scripted, make_user, login):
    _, _ids = scripted
    other = make_user()
    html = login(other).get("/book/reports?month=2025-01").get_data(as_text=True)
    assert "房東" not in html and "16,020" not in html


def test_a_year_not_begun_has_no_day_count(app, make_user, login):
    html = login(make_user()).get("/book/reports/review?year=2999").get_data(as_text=True)
    assert 'id="card-count"' in html and 'id="card-nospend"' not in html
