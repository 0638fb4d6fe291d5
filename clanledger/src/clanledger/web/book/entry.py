"""The book's home (balances, net worth, this month, the latest entries) and fast entry
(``/book/add``: the amount first, then a category chip and save)."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from clanledger.domain.book.kinds import AccountType, TxnKind
from clanledger.domain.book.money import format_amount
from clanledger.extensions import db
from clanledger.services.book import accounts, history, queries, transactions
from clanledger.services.errors import Conflict, ValidationError
from clanledger.web.book.common import book_view, bp, home_panels, register_book_tab, user_id
from clanledger.web.book.entry_form import (
    ENTRY_KINDS,
    FormErrors,
    form_context,
    new_values,
    parse_draft,
    service_errors,
    today,
)
from clanledger.web.book.flash import flash_with_undo

register_book_tab("book.home", _l("Overview"), order=10)
register_book_tab("book.add", _l("Add a transaction"), order=20)

ACCOUNT_TYPE_ORDER = tuple(AccountType)


@bp.get("")
@book_view
def home() -> str:
    me = user_id()
    session = db.session
    month = today().replace(day=1)
    return render_template(
        "book/home.html",
        accounts=accounts.list_accounts(session, me),
        balances=accounts.balances(session, me),
        net_worth=queries.net_worth(session, me),
        digits=queries.currency_digits(session, me),
        month=month,
        totals=queries.month_totals(session, me, month),
        latest=queries.latest(session, me, 5),
        panels=home_panels(session, me),
    )


@bp.route("/add", methods=["GET", "POST"])
@book_view
def add() -> Any:
    me = user_id()
    if request.method == "GET":
        values = new_values()
        for name in ("kind", "account_id", "category_id"):
            if request.args.get(name):
                values[name] = request.args[name][:20]
        return render_template("book/add.html", form=form_context(me, values))
    try:
        draft = parse_draft(me, request.form)
        txn = transactions.record(db.session, me, draft)
    except FormErrors as error:
        return _again(me, error.errors, 400)
    except (ValidationError, Conflict) as error:
        return _again(me, service_errors(error), 409)
    audit_id = history.last_audit_id(db.session, me, "transaction", txn.id)
    flash_with_undo(_saved(txn, draft.amount), audit_id)
    return redirect(url_for("book.add", kind=draft.kind.value))


def _again(me: int, errors: dict[str, str], status: int) -> tuple[str, int]:
    values = new_values(request.form)
    if values.get("kind") not in {k.value for k in ENTRY_KINDS}:
        values["kind"] = TxnKind.EXPENSE.value
    return render_template("book/add.html", form=form_context(me, values, errors)), status


def _saved(txn: Any, amount: int) -> str:
    """ "Saved: 午餐 120" in the user's language."""
    line = next((p for p in txn.postings if p.account_id is not None), None)
    digits = 0
    if line is not None:
        digits = accounts.get_account(db.session, txn.user_id, line.account_id).minor_digits
    shown = f"{line.currency if line else ''} {format_amount(amount, digits)}".strip()
    label = {
        TxnKind.EXPENSE: _("Expense saved: %(amount)s", amount=shown),
        TxnKind.INCOME: _("Income saved: %(amount)s", amount=shown),
    }.get(txn.kind, _("Transfer saved: %(amount)s", amount=shown))
    return f"{label} {txn.payee}".strip()
