"""The book's accounts (grouped by type, with balances and net worth per currency) and its
two-level categories: list, add, rename, archive."""

from __future__ import annotations

from typing import Any

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from clanledger.domain.book.kinds import AccountType, CategoryKind
from clanledger.domain.book.money import CURRENCIES
from clanledger.extensions import db
from clanledger.services.book import accounts, categories, queries
from clanledger.services.book.opening import open_account
from clanledger.web.book.common import (
    book_view,
    bp,
    register_book_section,
    register_book_tab,
    user_id,
)
from clanledger.web.book.entry_form import today
from clanledger.web.forms import WholeNumberField, handle_form, select_choices

register_book_tab("book.accounts", _l("Accounts"), order=80)
register_book_tab("book.categories", _l("Categories"), order=85)
register_book_section("book.accounts", "book.account_new", "book.account_edit")
register_book_section("book.categories", "book.category_new", "book.category_edit")

TYPE_LABELS = {
    AccountType.CASH: _l("Cash"),
    AccountType.BANK: _l("Bank account"),
    AccountType.CREDIT_CARD: _l("Credit card"),
    AccountType.E_WALLET: _l("E-wallet (LINE Pay, 街口…)"),
    AccountType.DIAMONDS: _l("Diamonds"),
}


class AccountForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    type = SelectField(_l("Type"), choices=select_choices(TYPE_LABELS.items()))
    currency = SelectField(_l("Currency"), choices=select_choices((c, c) for c in CURRENCIES))
    minor_digits = SelectField(
        _l("Decimals"),
        choices=select_choices(
            [("", _l("The currency's usual")), *((str(n), n) for n in range(5))]
        ),
        default="",
    )
    opening = StringField(
        _l("Opening balance"),
        validators=[Optional(), Length(max=40)],
        description=_l("What it holds today; for a card that already owes, a negative amount."),
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    closing_day = WholeNumberField(
        _l("Statement closing day (credit cards)"),
        validators=[Optional(), NumberRange(min=1, max=31)],
    )


class AccountEditForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    closing_day = WholeNumberField(
        _l("Statement closing day (credit cards)"),
        validators=[Optional(), NumberRange(min=1, max=31)],
    )
    archived = BooleanField(_l("Archived (hidden from the pickers, history kept)"))


class CategoryForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    kind = SelectField(
        _l("Kind"),
        choices=select_choices([("expense", _l("Expense")), ("income", _l("Income"))]),
    )
    parent = SelectField(_l("Under"), choices=[], validate_choice=True)


class CategoryEditForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    archived = BooleanField(_l("Archived (hidden from the pickers, history kept)"))


@bp.get("/accounts", endpoint="accounts")
@book_view
def accounts_page() -> str:
    me = user_id()
    every = accounts.list_accounts(db.session, me, include_archived=True)
    groups = [
        (kind, [a for a in every if a.type is kind and not a.archived]) for kind in AccountType
    ]
    return render_template(
        "book/accounts.html",
        groups=[(TYPE_LABELS[kind], rows) for kind, rows in groups if rows],
        archived=[a for a in every if a.archived],
        balances=accounts.balances(db.session, me),
        net_worth=queries.net_worth(db.session, me),
        digits=queries.currency_digits(db.session, me),
    )


@bp.route("/accounts/new", methods=["GET", "POST"])
@book_view
def account_new() -> Any:
    me = user_id()
    form = AccountForm()

    def act():
        return open_account(
            db.session,
            me,
            form.name.data,
            form.type.data,
            form.currency.data,
            int(form.minor_digits.data) if form.minor_digits.data else None,
            form.closing_day.data,
            form.opening.data or "",
            today(),
        )

    result = handle_form(
        form, act, lambda a: _("Account %(name)s added.", name=a.name), _to_accounts
    )
    if not isinstance(result, int):
        return result
    return render_template("book/form.html", form=form, title=_("New account")), result


@bp.route("/accounts/<int:account_id>/edit", methods=["GET", "POST"])
@book_view
def account_edit(account_id: int) -> Any:
    me = user_id()
    account = accounts.get_account(db.session, me, account_id)
    form = AccountEditForm(obj=account)

    def act():
        return accounts.update_account(
            db.session, me, account_id, form.name.data, form.archived.data, form.closing_day.data
        )

    result = handle_form(form, act, _("Account saved."), _to_accounts)
    if not isinstance(result, int):
        return result
    title = _("Edit account %(name)s", name=account.name)
    return render_template("book/form.html", form=form, title=title, account=account), result


def _to_accounts(_result: Any) -> str:
    return url_for("book.accounts")


@bp.get("/categories", endpoint="categories")
@book_view
def categories_page() -> str:
    me = user_id()
    return render_template(
        "book/categories.html",
        expense=categories.tree(db.session, me, CategoryKind.EXPENSE, include_archived=True),
        income=categories.tree(db.session, me, CategoryKind.INCOME, include_archived=True),
    )


@bp.route("/categories/new", methods=["GET", "POST"])
@book_view
def category_new() -> Any:
    me = user_id()
    form = CategoryForm()
    parents = categories.tree(db.session, me)
    form.parent.choices = select_choices(
        [("", _("(top level)"))] + [(str(n.category.id), n.category.name) for n in parents]
    )

    def act():
        parent_id = int(form.parent.data) if form.parent.data else None
        return categories.create_category(db.session, me, form.name.data, form.kind.data, parent_id)

    result = handle_form(
        form, act, lambda c: _("Category %(name)s added.", name=c.name), _to_categories
    )
    if not isinstance(result, int):
        return result
    return render_template("book/form.html", form=form, title=_("New category")), result


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@book_view
def category_edit(category_id: int) -> Any:
    me = user_id()
    category = categories.get_category(db.session, me, category_id)
    form = CategoryEditForm(obj=category)

    def act():
        return categories.update_category(
            db.session, me, category_id, form.name.data, form.archived.data
        )

    result = handle_form(form, act, _("Category saved."), _to_categories)
    if not isinstance(result, int):
        return result
    title = _("Edit category %(name)s", name=categories.full_name(category))
    return render_template("book/form.html", form=form, title=title), result


def _to_categories(_result: Any) -> str:
    return url_for("book.categories")
