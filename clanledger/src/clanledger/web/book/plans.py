"""Budgets (預算) and recurring transactions (固定收支) of the personal book, the home
panel that shows what is left this month, and the visit hook that makes what fell due.

"Today" is the date in the book's timezone (``BOOK_TIMEZONE``, Asia/Taipei by default).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from werkzeug.wrappers import Response

from clanledger.book_cli import book_recurring_command
from clanledger.domain.book.budget import add_months, parse_month
from clanledger.domain.book.errors import BookInputError
from clanledger.domain.book.kinds import CategoryKind
from clanledger.extensions import db
from clanledger.i18n import service_message
from clanledger.services.book import accounts, budgets, categories, recurring, recurring_run
from clanledger.services.errors import (
    Conflict,
    DatabaseBusy,
    ServiceError,
    ValidationError,
    is_lost_race,
)
from clanledger.web.book.common import (
    book_view,
    bp,
    register_book_section,
    register_book_tab,
    register_home_panel,
    register_on_visit,
    user_id,
)
from clanledger.web.book.plans_forms import (
    ActionForm,
    BudgetForm,
    CopyForm,
    RuleForm,
    describe_schedule,
)
from clanledger.web.forms import form_page_status, select_choices, show_service_error

register_book_tab("book.budgets", _l("Budgets"), order=50)
register_book_tab("book.recurring", _l("Recurring"), order=60)
register_book_section("book.recurring", "book.recurring_new", "book.recurring_edit")

HOME_UPCOMING = 5


def book_today() -> date:
    """Today in the book's timezone."""
    return recurring_run.today_in(current_app.config.get("BOOK_TIMEZONE"))


# ------------------------------------------------------------------------------ visit hook


def make_due(session: Any, uid: int) -> None:
    """Before every book page: make the recurring transactions due up to today, and say
    so. A run that loses a race to another tab leaves the page alone (that tab made them)."""
    try:
        report = recurring_run.run_due(session, uid, book_today())
    except ServiceError:
        session.rollback()
        return
    except DatabaseBusy as error:
        session.rollback()
        if not is_lost_race(error):
            raise
        return
    if report.made:
        names = "、".join(dict.fromkeys(name for _id, name, _when in report.made))
        flash(
            ngettext(
                "%(num)d recurring transaction was added: %(names)s.",
                "%(num)d recurring transactions were added: %(names)s.",
                len(report.made),
                names=names,
            ),
            "info",
        )
    for _id, name, reason, params in report.paused:
        flash(f"{name}: {pause_reason(reason, params)}", "warning")


register_on_visit(make_due)


def pause_reason(reason: str | None, params: dict[str, Any] | None) -> str:
    """Why a run paused a rule, in the reader's language."""
    if not reason:
        return ""
    shown = dict(params or {})
    if "error" in shown:
        shown["error"] = _(shown["error"])
    return _(reason, **shown)


# ------------------------------------------------------------------------------ home panel


def _home_panel(session: Any, uid: int) -> dict[str, Any]:
    today = book_today()
    return {
        "budgets": budgets.month_budgets(session, uid, today, today),
        "upcoming": recurring.upcoming(session, uid, today)[:HOME_UPCOMING],
        "today": today,
    }


register_home_panel("book/plans/_home_budgets.html", _home_panel, order=20)


# ------------------------------------------------------------------------------ budgets


def _month_arg() -> date:
    """``?month=2026-12``; absent: this month. Malformed: 400 with a message."""
    text = request.values.get("month", "").strip()
    if not text:
        return book_today().replace(day=1)
    try:
        return parse_month(text)
    except BookInputError as error:
        raise ValidationError(error.message, field="month", params=error.params) from None


def _budget_form(uid: int, month: date) -> BudgetForm:
    form = BudgetForm(month=f"{month:%Y-%m}")
    form.category_id.choices = select_choices(
        (c.id, name) for c, name in _category_choices(uid, CategoryKind.EXPENSE)
    )
    return form


def _category_choices(uid: int, kind: CategoryKind | None) -> list[tuple[Any, str]]:
    out = []
    for node in categories.tree(db.session, uid, kind):
        out.append((node.category, node.category.name))
        out.extend((child, f"{node.category.name} › {child.name}") for child in node.children)
    return out


def _budgets_page(form: BudgetForm, month: date, status: int) -> tuple[str, int]:
    uid = user_id()
    today = book_today()
    return (
        render_template(
            "book/plans/budgets.html",
            form=form,
            copy_form=CopyForm(month=f"{month:%Y-%m}"),
            action_form=ActionForm(),
            month=month,
            previous=add_months(month, -1),
            following=add_months(month, 1),
            this_month=today.replace(day=1),
            data=budgets.month_budgets(db.session, uid, month, today),
        ),
        status,
    )


@bp.get("/budgets")
@book_view
def budgets_page() -> tuple[str, int]:
    month = _month_arg()
    return _budgets_page(_budget_form(user_id(), month), month, 200)


@bp.post("/budgets")
@book_view
def budget_set() -> Response | tuple[str, int]:
    uid = user_id()
    month = _month_arg()
    form = _budget_form(uid, month)
    if form.validate_on_submit():
        scope = None if form.scope.data == "every" else month
        try:
            budgets.set_budget(db.session, uid, form.category_id.data, form.amount.data, scope)
        except (ValidationError, Conflict) as error:
            show_service_error(form, error)
            return _budgets_page(form, month, form_page_status(form, refused=True))
        flash(_("Budget saved."), "success")
        return redirect(url_for("book.budgets_page", month=f"{month:%Y-%m}"))
    return _budgets_page(form, month, form_page_status(form))


@bp.post("/budgets/<int:budget_id>/delete")
@book_view
def budget_delete(budget_id: int) -> Response:
    uid = user_id()
    row = budgets.get_budget(db.session, uid, budget_id)
    month = row.month or _month_arg()
    if ActionForm().validate_on_submit():
        budgets.remove_budget(db.session, uid, budget_id)
        flash(_("Budget removed."), "success")
    else:
        flash(_("The form expired. Try again."), "warning")
    return redirect(url_for("book.budgets_page", month=f"{month:%Y-%m}"))


@bp.post("/budgets/copy")
@book_view
def budget_copy() -> Response:
    uid = user_id()
    month = _month_arg()
    if CopyForm().validate_on_submit():
        copied = budgets.copy_last_month(db.session, uid, month)
        if copied:
            flash(ngettext("%(num)d budget copied.", "%(num)d budgets copied.", copied), "success")
        else:
            flash(_("Last month has no budgets of its own to copy."), "info")
    else:
        flash(_("The form expired. Try again."), "warning")
    return redirect(url_for("book.budgets_page", month=f"{month:%Y-%m}"))


# ------------------------------------------------------------------------------ recurring


@bp.get("/recurring")
@book_view
def recurring_list() -> str:
    uid = user_id()
    rows = recurring.list_rules(db.session, uid)
    return render_template(
        "book/plans/recurring.html",
        rows=rows,
        reasons={row.rule.id: pause_reason(row.reason, row.reason_params) for row in rows},
        schedules={
            row.rule.id: describe_schedule(
                row.rule.frequency, row.rule.every, row.rule.day, row.rule.starts_on
            )
            for row in rows
        },
        upcoming=recurring.upcoming(db.session, uid, book_today()),
        action_form=ActionForm(),
    )


def _rule_form(uid: int, obj: Any = None) -> RuleForm:
    form = RuleForm(obj=obj)
    own = [a for a in accounts.list_accounts(db.session, uid) if not a.read_only]
    account_choices = [(a.id, f"{a.name} ({a.currency})") for a in own]
    form.account_id.choices = select_choices(account_choices)
    form.to_account_id.choices = select_choices([("", "—"), *account_choices])
    labels = {CategoryKind.EXPENSE: _("Expense"), CategoryKind.INCOME: _("Income")}
    form.category_id.choices = select_choices(
        [("", "—")]
        + [
            (c.id, f"{labels[c.kind]} · {name}")
            for kind in (CategoryKind.EXPENSE, CategoryKind.INCOME)
            for c, name in _category_choices(uid, kind)
        ]
    )
    return form


def _rule_page(form: RuleForm, rule: Any, status: int) -> tuple[str, int]:
    return render_template("book/plans/rule_form.html", form=form, rule=rule), status


@bp.route("/recurring/new", methods=["GET", "POST"])
@book_view
def recurring_new() -> Response | tuple[str, int]:
    uid = user_id()
    form = _rule_form(uid)
    if not form.is_submitted():
        form.starts_on.data = book_today()
    if form.validate_on_submit():
        try:
            rule = recurring.create_rule(db.session, uid, form.to_input())
        except (ValidationError, Conflict) as error:
            show_service_error(form, error)
            return _rule_page(form, None, form_page_status(form, refused=True))
        flash(_("Recurring rule %(name)s saved.", name=rule.name), "success")
        return redirect(url_for("book.recurring_list"))
    return _rule_page(form, None, form_page_status(form))


@bp.route("/recurring/<int:rule_id>/edit", methods=["GET", "POST"])
@book_view
def recurring_edit(rule_id: int) -> Response | tuple[str, int]:
    uid = user_id()
    rule = recurring.get_rule(db.session, uid, rule_id)
    form = _rule_form(uid, obj=None if request.method == "POST" else rule)
    if not form.is_submitted():
        form.kind.data = rule.kind.value
        form.frequency.data = rule.frequency.value
        form.amount.data = _amount_text(uid, rule)
        form.version.data = str(rule.version)
    if form.validate_on_submit():
        try:
            recurring.update_rule(
                db.session, uid, rule_id, form.to_input(), form.expected_version()
            )
        except (ValidationError, Conflict) as error:
            show_service_error(form, error)
            return _rule_page(form, rule, form_page_status(form, refused=True))
        flash(_("Recurring rule %(name)s saved.", name=form.name.data), "success")
        return redirect(url_for("book.recurring_list"))
    return _rule_page(form, rule, form_page_status(form))


def _amount_text(uid: int, rule: Any) -> str:
    account = accounts.get_account(db.session, uid, rule.account_id)
    return current_app.jinja_env.filters["book_money"](rule.amount, account.minor_digits)


def _rule_action(rule_id: int, act: Any, done: str) -> Response:
    """A pause, resume or delete button: CSRF checked, 404 for another user's rule; a
    refusal (already paused, changed in another tab) is said on the list."""
    uid = user_id()
    recurring.get_rule(db.session, uid, rule_id)  # 404 before anything else
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("The form expired. Try again."), "warning")
        return redirect(url_for("book.recurring_list"))
    try:
        act(uid, form.expected_version())
    except (ValidationError, Conflict) as error:
        flash(service_message(error), "warning")
    else:
        flash(done, "success")
    return redirect(url_for("book.recurring_list"))


@bp.post("/recurring/<int:rule_id>/pause")
@book_view
def recurring_pause(rule_id: int) -> Response:
    return _rule_action(
        rule_id,
        lambda uid, version: recurring.pause_rule(db.session, uid, rule_id, version),
        _("Paused."),
    )


@bp.post("/recurring/<int:rule_id>/resume")
@book_view
def recurring_resume(rule_id: int) -> Response:
    return _rule_action(
        rule_id,
        lambda uid, version: recurring.resume_rule(db.session, uid, rule_id, book_today(), version),
        _("Resumed: dates missed while paused are skipped."),
    )


@bp.post("/recurring/<int:rule_id>/delete")
@book_view
def recurring_delete(rule_id: int) -> Response:
    return _rule_action(
        rule_id,
        lambda uid, version: recurring.delete_rule(db.session, uid, rule_id, version),
        _("Rule deleted; the transactions it made stay in the book."),
    )


def _register_command(state: Any) -> None:
    """``flask book-recurring`` comes with the book's blueprint."""
    state.app.cli.add_command(book_recurring_command)


bp.record_once(_register_command)
