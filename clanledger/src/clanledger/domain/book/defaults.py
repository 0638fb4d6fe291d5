"""The default categories a new book starts with: Traditional Chinese first, with English
names for a user who chose English. ``code`` is stable, whatever the user renames."""

from __future__ import annotations

from dataclasses import dataclass, field

from clanledger.domain.book.kinds import CategoryKind


@dataclass(frozen=True)
class DefaultCategory:
    code: str
    zh: str
    en: str
    kind: CategoryKind = CategoryKind.EXPENSE
    children: tuple[DefaultCategory, ...] = field(default=())

    def name(self, locale: str | None) -> str:
        return self.en if (locale or "").startswith("en") else self.zh


def _c(code: str, zh: str, en: str, *children: DefaultCategory) -> DefaultCategory:
    return DefaultCategory(code, zh, en, CategoryKind.EXPENSE, children)


def _i(code: str, zh: str, en: str, *children: DefaultCategory) -> DefaultCategory:
    return DefaultCategory(code, zh, en, CategoryKind.INCOME, children)


DEFAULT_CATEGORIES: tuple[DefaultCategory, ...] = (
    _c(
        "food",
        "餐飲",
        "Food",
        _c("breakfast", "早餐", "Breakfast"),
        _c("lunch", "午餐", "Lunch"),
        _c("dinner", "晚餐", "Dinner"),
        _c("drinks", "飲料", "Drinks"),
        _c("snacks", "點心", "Snacks"),
    ),
    _c(
        "transport",
        "交通",
        "Transport",
        _c("transit", "捷運公車", "Metro and bus"),
        _c("taxi", "計程車", "Taxi"),
        _c("fuel", "加油", "Fuel"),
        _c("parking", "停車", "Parking"),
    ),
    _c("daily", "日用品", "Daily necessities"),
    _c(
        "shopping",
        "購物",
        "Shopping",
        _c("clothes", "服飾", "Clothes"),
        _c("gadgets", "3C", "Gadgets"),
    ),
    _c(
        "entertainment",
        "娛樂",
        "Entertainment",
        _c("games", "遊戲", "Games"),
        _c("movies", "電影", "Movies"),
        _c("travel", "旅遊", "Travel"),
    ),
    _c("medical", "醫療", "Medical"),
    _c(
        "housing",
        "居住",
        "Housing",
        _c("rent", "房租", "Rent"),
        _c("utilities", "水電瓦斯", "Utilities"),
        _c("telecom", "電信網路", "Phone and internet"),
    ),
    _c("education", "教育", "Education"),
    _c("insurance", "保險", "Insurance"),
    _c("fees", "手續費", "Fees"),
    _c("other_expense", "其他支出", "Other spending"),
    _i(
        "income",
        "收入",
        "Income",
        _i("salary", "薪資", "Salary"),
        _i("bonus", "獎金", "Bonus"),
        _i("investment", "投資", "Investment"),
        _i("clan_share", "血盟分鑽", "Clan shares"),
        _i("other_income", "其他收入", "Other income"),
    ),
)
