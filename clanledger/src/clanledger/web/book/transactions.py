"""The transactions list (month, filters, search, paging), editing and deleting a
transaction with an undo, and the personal audit trail."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from clanledger.domain.book.budget import add_months
from clanledger.domain.book.kinds import TxnKind
from clanledger.extensions import db
from clanledger.services.book import accounts, categories, history, queries, transactions
from clanledger.services.errors import Conflict, ValidationError
from clanledger.web.book.common import (
    book_view,
    bp,
    register_book_section,
    register_book_tab,
    user_id,
)
from clanledger.web.book.entry_form import (
    FormErrors,
    form_context,
    parse_draft,
    parse_id,
    service_errors,
    today,
    values_of,
)
from clanledger.web.book.flash import flash_with_undo
from clanledger.web.params import page_arg
from clanledger.web.scoping import render_error

register_book_tab("book.transactions", _l("Transactions"), order=30)
register_book_section("book.transactions", "book.txn_edit", "book.audit")

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
LIST_KINDS = (TxnKind.EXPENSE, TxnKind.INCOME, TxnKind.TRANSFER, TxnKind.OPENING, TxnKind.CLAN)


class BadParam(Exception):
    """A query-string value no list can be shown for (400 with its message)."""


def _month_arg() -> date:
    raw = (request.args.get("month") or "").strip()
    if not raw:
        return today().replace(day=1)
    found = MONTH.match(raw)
    if found and 1970 <= int(found[1]) <= 2999 and 1 <= int(found[2]) <= 12:
        return date(int(found[1]), int(found[2]), 1)
    raise BadParam(_("Choose a month as YYYY-MM, e.g. 2026-03."))


def _id_filter(name: str, message: str) -> int | None:
    raw = request.args.get(name, "")
    if not raw.strip():
        return None
    value = parse_id(raw)
    if value is None:
        raise BadParam(message)
    return value


def _filters() -> queries.Filters:
    kind_text = (request.args.get("kind") or "").strip()
    kind = next((k for k in LIST_KINDS if k.value == kind_text), None)
    if kind_text and kind is None:
        raise BadParam(_("Choose expense, income, transfer, opening balance or clan."))
    return queries.Filters(
        month=_month_arg(),
        account_id=_id_filter("account_id", _("Choose one of your accounts.")),
        category_id=_id_filter("category_id", _("Choose one of your categories.")),
        kind=kind,
        tag=(request.args.get("tag") or "").strip().lstrip("#")[:24],
        search=(request.args.get("q") or "").strip()[: queries.MAX_SEARCH],
    )


@bp.get("/transactions", endpoint="transactions")
@book_view
def transactions_list() -> Any:
    me = user_id()
    try:
        filters = _filters()
    except BadParam as error:
        return render_error(400, str(error))
    page = queries.list_transactions(db.session, me, filters, page_arg())
    args = {k: v for k, v in request.args.items() if k not in ("page", "month") and v}
    return render_template(
        "book/transactions.html",
        page=page,
        filters=filters,
        args=args,
        previous=add_months(filters.month, -1),
        next=add_months(filters.month, 1),
        accounts=accounts.list_accounts(db.session, me, include_archived=True),
        tree=categories.tree(db.session, me, include_archived=True),
        tags=queries.tags_in_use(db.session, me),
        kinds=LIST_KINDS,
    )


@bp.route("/transactions/<int:txn_id>/edit", methods=["GET", "POST"])
@book_view
def txn_edit(txn_id: int) -> Any:
    me = user_id()
    txn = transactions.get_transaction(db.session, me, txn_id)
    if txn.kind is TxnKind.CLAN:
        raise Conflict(transactions.READ_ONLY)
    if txn.deleted_at is not None:
        raise Conflict("This transaction was deleted.")
    by_id = {a.id: a for a in accounts.list_accounts(db.session, me, include_archived=True)}
    if request.method == "GET":
        return _edit_page(me, txn, values_of(txn, by_id), {}, 200)
    version = parse_id(request.form.get("version"))
    if version is None:
        return _edit_page(me, txn, request.form, {"form": _("Reload the page and try again.")}, 400)
    try:
        draft = parse_draft(me, request.form, editing=txn)
        txn = transactions.update(db.session, me, txn_id, draft, expected_version=version)
    except FormErrors as error:
        return _edit_page(me, txn, request.form, error.errors, 400)
    except (ValidationError, Conflict) as error:
        return _edit_page(me, txn, request.form, service_errors(error), 409)
    audit_id = history.last_audit_id(db.session, me, "transaction", txn.id)
    flash_with_undo(_("Transaction saved."), audit_id)
    return redirect(url_for("book.transactions", month=f"{txn.occurred_on:%Y-%m}"))


def _edit_page(me: int, txn: Any, values: Any, errors: dict, status: int) -> tuple[str, int]:
    context = form_context(me, MultiDict(values), errors)
    return render_template("book/txn_edit.html", form=context, txn=txn), status


@bp.post("/transactions/<int:txn_id>/delete")
@book_view
def txn_delete(txn_id: int) -> Any:
    me = user_id()
    version = parse_id(request.form.get("version"))
    row = transactions.delete(db.session, me, txn_id, expected_version=version)
    txn = transactions.get_transaction(db.session, me, txn_id)
    flash_with_undo(_("Transaction deleted."), row.id)
    return redirect(url_for("book.transactions", month=f"{txn.occurred_on:%Y-%m}"))


@bp.post("/undo/<int:audit_id>")
@book_view
def undo(audit_id: int) -> Any:
    me = user_id()
    txn = transactions.undo(db.session, me, audit_id)
    state = _("Transaction deleted again.") if txn.deleted_at else _("Change undone.")
    flash_with_undo(state, None)
    return redirect(url_for("book.transactions", month=f"{txn.occurred_on:%Y-%m}"))


@bp.get("/audit")
@book_view
def audit() -> str:
    page = history.audit_page(db.session, user_id(), page_arg())
    return render_template(
        "book/audit.html",
        page=page,
        action_labels=history.ACTION_LABELS,
        entity_labels=history.ENTITY_LABELS,
    )


@bp.app_template_filter("book_change")
def book_change(change: history.Change) -> str:
    """One change of the audit trail in the user's language (a field's name too)."""
    params = dict(change.params)
    if "field" in params:
        params["field"] = _(params["field"])
    return _(change.message, **params) if params else _(change.message)
