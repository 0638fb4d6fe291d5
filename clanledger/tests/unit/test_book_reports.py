"""The report figures against a year scripted by hand (2025, not a leap year: 365 days).

Categories: 餐飲 food 1 (午餐 lunch 11, 晚餐 dinner 12), 交通 transport 2 (計程車 taxi 21),
居住 housing 3 (房租 rent 31); income 薪資 salary 91, 獎金 bonus 92, 血盟分鑽 clan_share 93.
Accounts: cash 100, bank 101, card 102, diamonds 103 (DIA).

Every expected figure below is a literal worked out by hand in the comments.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clanledger.domain.book import charts
from clanledger.domain.book.reports import (
    BudgetRow,
    Posting,
    budget_limits,
    largest_remainder,
    month_report,
    no_spend_days,
    permille_of,
    year_report,
)
from clanledger.domain.book.review import highlights

PARENTS = {1: None, 11: 1, 12: 1, 2: None, 21: 2, 3: None, 31: 3, 9: None, 91: 9, 92: 9, 93: 9}
CODES = {93: "clan_share"}


def expense(txn, day, payee, *lines, account=100, currency="TWD"):
    """An expense: the account line (-total) and one line per (category, amount)."""
    total = sum(a for _, a in lines)
    out = [Posting(txn, date.fromisoformat(day), "expense", -total, currency, payee, account)]
    for cat, amount in lines:
        out.append(
            Posting(
                txn,
                date.fromisoformat(day),
                "expense",
                amount,
                currency,
                payee,
                None,
                cat,
                PARENTS[cat],
                "expense",
                CODES.get(cat),
            )
        )
    return out


def income(txn, day, payee, cat, amount, account=101, currency="TWD", kind="income"):
    d = date.fromisoformat(day)
    return [
        Posting(txn, d, kind, amount, currency, payee, account),
        Posting(
            txn,
            d,
            kind,
            -amount,
            currency,
            payee,
            None,
            cat,
            PARENTS[cat],
            "income",
            CODES.get(cat),
        ),
    ]


def transfer(txn, day, amount, source=101, target=102):
    d = date.fromisoformat(day)
    return [
        Posting(txn, d, "transfer", -amount, "TWD", "", source),
        Posting(txn, d, "transfer", amount, "TWD", "", target),
    ]


def opening(txn, day, amount, account=101):
    d = date.fromisoformat(day)
    return [
        Posting(txn, d, "opening", amount, "TWD", "", account),
        Posting(txn, d, "opening", -amount, "TWD", ""),
    ]


YEAR = [
    *opening(7, "2025-01-01", 10_000),  # not income
    *income(1, "2025-01-05", "公司", 91, 50_000),
    *expense(2, "2025-01-06", "房東", (31, 15_000)),  # Monday
    *expense(3, "2025-01-10", "7-11", (11, 120)),  # Friday
    *expense(4, "2025-01-10", "台灣大車隊", (21, 300)),  # Friday
    *expense(5, "2025-01-20", "全聯", (12, 500), (1, 100)),  # Monday; a split of 600
    *transfer(6, "2025-01-25", 5_000),  # a card payment: neither spending nor income
    *income(8, "2025-02-05", "公司", 91, 50_000),
    *expense(9, "2025-02-06", "房東", (31, 15_000)),  # Thursday
    *expense(10, "2025-02-14", "餐廳", (12, 2_000)),  # Friday
    *expense(11, "2025-02-15", "7-11", (11, 120)),  # Saturday
    *income(12, "2025-03-05", "", 92, 20_000),
    *expense(13, "2025-03-10", "台灣大車隊", (21, 250)),  # Monday
    *expense(15, "2025-12-31", "7-11", (11, 80)),  # Wednesday
    *income(16, "2025-06-01", "血盟", 93, 3_000, account=103, currency="DIA", kind="clan"),
]

BUDGETS = [
    BudgetRow(1, None, 700, "TWD"),  # food, every month
    BudgetRow(1, date(2025, 2, 1), 3_000, "TWD"),  # food, February's own row wins
    BudgetRow(2, None, 250, "TWD"),  # transport
    BudgetRow(11, None, 100, "TWD"),  # lunch (a subcategory: only its own spending)
    BudgetRow(3, None, 1, "USD"),  # another currency: not in a TWD report
]


def test_january():
    report = month_report(YEAR, date(2025, 1, 17), "TWD", BUDGETS, PARENTS)
    # income 50,000 (the opening 10,000 and the transfer 5,000 are not income/spending);
    # spending 15,000 + 120 + 300 + 600 = 16,020; net 33,980
    assert (report.income, report.spending, report.net) == (50_000, 16_020, 33_980)
    # housing 15,000; food 120 + 500 + 100 = 720; transport 300
    # permille floors 936 (rem 5,280/16,020), 44 (rem 15,120), 18 (rem 11,640): the 2 left
    # go to food and transport -> 936, 45, 19; percents 93 (rem 10,140), 4 (7,920),
    # 1 (13,980): transport then housing -> 94, 4, 2
    assert [(c.category_id, c.amount, c.permille, c.percent) for c in report.categories] == [
        (3, 15_000, 936, 94),
        (1, 720, 45, 4),
        (2, 300, 19, 2),
    ]
    assert sum(c.permille for c in report.categories) == 1000
    assert report.categories[1].children == ((12, 500), (11, 120), (1, 100))
    # the split 600 is one expense, under the category of its largest line (dinner -> food)
    assert [(e.txn_id, e.amount, e.category_id) for e in report.biggest] == [
        (2, 15_000, 3),
        (5, 600, 1),
        (4, 300, 2),
        (3, 120, 1),
    ]
    # each payee once: by amount then
    assert [(p.payee, p.count, p.amount) for p in report.payees] == [
        ("房東", 1, 15_000),
        ("全聯", 1, 600),
        ("台灣大車隊", 1, 300),
        ("7-11", 1, 120),
    ]
    # food 700 vs 720 (its subcategories count), transport 250 vs 300, lunch 100 vs 120
    assert {(b.category_id, b.limit, b.spent, b.over) for b in report.budgets} == {
        (1, 700, 720, True),
        (2, 250, 300, True),
        (11, 100, 120, True),
    }
    assert len(report.misses) == 3 and report.hits == ()


def test_february_budget_row_of_the_month_wins():
    report = month_report(YEAR, date(2025, 2, 1), "TWD", BUDGETS, PARENTS)
    # income 50,000; spending 15,000 + 2,000 + 120 = 17,120
    assert (report.income, report.spending, report.net) == (50_000, 17_120, 32_880)
    # food 3,000 (February's row) vs 2,120: hit; transport 250 vs 0: hit; lunch 100 vs 120
    assert {(b.category_id, b.limit, b.spent, b.over) for b in report.budgets} == {
        (1, 3_000, 2_120, False),
        (2, 250, 0, False),
        (11, 100, 120, True),
    }
    assert budget_limits(BUDGETS, date(2025, 2, 1), "TWD") == {1: 3_000, 2: 250, 11: 100}
    assert budget_limits(BUDGETS, date(2025, 3, 1), "TWD") == {1: 700, 2: 250, 11: 100}


def test_the_year():
    report = year_report(YEAR, 2025, "TWD", BUDGETS, PARENTS)
    # Jan 50,000 / 16,020; Feb 50,000 / 17,120; Mar 20,000 / 250; Dec 0 / 80; others 0
    assert [
        (m.month.month, m.income, m.spending) for m in report.months if m.income or m.spending
    ] == [
        (1, 50_000, 16_020),
        (2, 50_000, 17_120),
        (3, 20_000, 250),
        (12, 0, 80),
    ]
    assert len(report.months) == 12
    # 120,000 earned, 16,020 + 17,120 + 250 + 80 = 33,470 spent
    assert (report.income, report.spending, report.net) == (120_000, 33_470, 86_530)
    # food over only in January (720 > 700); transport over in January (300 > 250; March
    # 250 == 250 is within); lunch over in January and February (120 > 100)
    assert [(b.category_id, b.hits, b.misses) for b in report.budgets] == [
        (1, 11, 1),
        (2, 11, 1),
        (11, 10, 2),
    ]
    # up to March only (the current year seen in March): 3 months counted
    partial = year_report(YEAR, 2025, "TWD", BUDGETS, PARENTS, through=date(2025, 3, 20))
    assert [(b.category_id, b.hits, b.misses) for b in partial.budgets] == [
        (1, 2, 1),
        (2, 2, 1),
        (11, 1, 2),
    ]


def test_year_in_review():
    found = highlights(YEAR, 2025, "TWD", date(2026, 2, 1), {103})
    assert (found.spending, found.income) == (33_470, 120_000)
    # 86,530 / 120,000 = 721.08 permille -> 721
    assert found.saving_permille == 721
    assert (found.biggest_month.month, found.biggest_month.spending) == (date(2025, 2, 1), 17_120)
    # housing 30,000 of 33,470: floors 89, 8, 1 -> food and transport get the 2 left
    assert (found.top_category.category_id, found.top_category.amount) == (3, 30_000)
    assert found.top_category.percent == 89
    # 7-11: 120 + 120 + 80 in 3 visits; 房東 twice
    assert (found.top_payee.payee, found.top_payee.count, found.top_payee.amount) == (
        "7-11",
        3,
        320,
    )
    # two rents of 15,000: the earlier one
    assert (found.biggest_expense.txn_id, found.biggest_expense.amount) == (2, 15_000)
    # spending on 8 days (Jan 6, 10, 20; Feb 6, 14, 15; Mar 10; Dec 31): 365 - 8 = 357;
    # the longest run is Mar 11 .. Dec 30: 21 + 30 + 31 + 30 + 31 + 31 + 30 + 31 + 30 + 30
    assert (found.no_spend_days, found.longest_streak, found.streak_start) == (
        357,
        295,
        date(2025, 3, 11),
    )
    # TWD transactions but the opening: 1-6, 8-13, 15 = 13 (the DIA share is another currency)
    assert found.transactions == 13
    # Mondays: Jan 6, Jan 20, Mar 10 = 3; Fridays: Jan 10 (x2), Feb 14 = 3 -> Monday first
    assert (found.busiest_weekday, found.busiest_weekday_count) == (0, 3)
    assert found.clan_diamonds == 3_000
    assert highlights(YEAR, 2025, "TWD", date(2026, 2, 1)).clan_diamonds is None


def test_review_of_the_current_year_counts_days_up_to_today():
    found = highlights(YEAR, 2025, "TWD", date(2025, 1, 10))
    # Jan 1 .. 10: spending on the 6th and the 10th -> 8 days; longest run Jan 1 .. 5
    assert (found.no_spend_days, found.longest_streak, found.streak_start) == (
        8,
        5,
        date(2025, 1, 1),
    )
    assert found.days == 10


def test_empty_year_has_no_highlights():
    found = highlights([], 2024, "TWD", date(2025, 1, 1))
    assert found.saving_permille is None and found.top_payee is None
    assert found.biggest_month is None and found.busiest_weekday is None
    # 2024 is a leap year: 366 days without spending in a row
    assert (found.no_spend_days, found.longest_streak) == (366, 366)


def test_refund_lowers_spending_and_a_negative_category_gets_no_share():
    rows = [
        *expense(1, "2025-04-02", "A", (11, 500)),
        *expense(2, "2025-04-03", "B", (21, 100)),
        # a refund of taxi: -150 on transport (the account gets money back)
        Posting(3, date(2025, 4, 4), "expense", 150, "TWD", "B", 100),
        Posting(3, date(2025, 4, 4), "expense", -150, "TWD", "B", None, 21, 2, "expense"),
    ]
    report = month_report(rows, date(2025, 4, 1), "TWD")
    assert report.spending == 450
    assert [(c.category_id, c.amount, c.permille) for c in report.categories] == [
        (1, 500, 1000),
        (2, -50, 0),
    ]
    assert [e.txn_id for e in report.biggest] == [1, 2]


@pytest.mark.parametrize(
    ("values", "whole", "expected"),
    [
        ([1, 1, 1], 100, [34, 33, 33]),  # remainders tie: the earlier one
        ([2, 1], 1000, [667, 333]),
        ([0, 0], 100, [0, 0]),
        ([5], 100, [100]),
        ([1, 0, 1], 1000, [500, 0, 500]),
        ([999, 1], 100, [100, 0]),  # 99.9 and 0.1: the larger remainder wins
        ([1, 2, 3, 4, 5, 6, 7], 1000, [36, 71, 107, 143, 179, 214, 250]),
    ],
)
def test_largest_remainder(values, whole, expected):
    assert largest_remainder(values, whole) == expected
    assert sum(expected) == (whole if any(values) else 0)


def test_largest_remainder_refuses_negative_values():
    with pytest.raises(ValueError):
        largest_remainder([1, -1], 100)


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(1, 3, 333), (2, 3, 667), (-1, 3, -333), (1, 2000, 1), (1, 0, 0), (-86_530, 120_000, -721)],
)
def test_permille_of(part, whole, expected):
    assert permille_of(part, whole) == expected


def test_no_spend_days_over_a_range():
    rows = expense(1, "2024-02-29", "x", (11, 10))
    # Feb 27 .. Mar 2 2024 (leap): spending only on the 29th
    assert no_spend_days(rows, date(2024, 2, 27), date(2024, 3, 2)) == (4, 2, date(2024, 2, 27))


def test_chart_geometry_is_integers_that_close():
    slices = charts.donut([936, 45, 19, 0])
    assert [(s.permille, s.offset, s.gap) for s in slices] == [
        (936, 0, 64),
        (45, 936, 955),
        (19, 981, 981),
    ]
    assert charts.bar_widths([15_000, 720, 300, 1, 0, -5]) == [240, 11, 4, 1, 0, 0]
    columns = charts.month_columns([(50_000, 16_020), (0, 80), (0, 0)])
    assert [(c.x, c.income_height, c.spending_height) for c in columns] == [
        (0, 120, 38),
        (30, 0, 1),
        (60, 0, 0),
    ]


@given(
    st.lists(st.integers(min_value=0, max_value=10**15), max_size=30), st.sampled_from([100, 1000])
)
def test_largest_remainder_always_adds_up_and_stays_within_one(values, whole):
    shares = largest_remainder(values, whole)
    total = sum(values)
    assert sum(shares) == (whole if total else 0)
    for value, share in zip(values, shares, strict=True):
        # each share is its exact proportion rounded down or up, never further
        assert (
            value * whole // total <= share <= -(-value * whole // total) if total else share == 0
        )
