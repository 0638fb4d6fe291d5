"""Imports (匯入): upload a bank CSV or an e-invoice carrier export, map its columns, see
what would be recorded, confirm (all or nothing), and undo a whole import later."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField
from wtforms.validators import InputRequired, Optional

from clanledger.domain.book.csv_import import FIELDS, Mapping
from clanledger.domain.book.import_text import MAX_IMPORT_BYTES, MAX_IMPORT_LINES
from clanledger.domain.book.kinds import CategoryKind
from clanledger.extensions import db
from clanledger.i18n import service_message
from clanledger.services.book import accounts, categories
from clanledger.services.book import imports as service
from clanledger.services.book.import_plan import Plan, Settings
from clanledger.services.errors import Conflict, ValidationError
from clanledger.web.book.common import (
    book_view,
    bp,
    register_book_section,
    register_book_tab,
    user_id,
)
from clanledger.web.forms import form_page_status, select_choices, show_service_error

register_book_tab("book.imports", _l("Import"), order=70)
register_book_section("book.imports", "book.import_review")

KINDS = (("csv", _l("Bank or card CSV")), ("einvoice", _l("E-invoice carrier export (載具)")))
DATE_ORDERS = (
    ("ymd", _l("Year first: 2026/12/05, or 民國 115/12/05")),
    ("roc", _l("民國 years: 115/12/05, 1151205")),
    ("mdy", _l("Month first: 12/05/2026")),
    ("dmy", _l("Day first: 05/12/2026")),
)
SIGNS = (("neg", _l("Negative amounts are spending")), ("pos", _l("Positive amounts are spending")))
PREVIEW_ROWS = 50


def _optional_int(value: Any) -> int | None:
    """A select's value: empty is ``None``; anything but a row id is refused (400)."""
    if value is None or isinstance(value, int):
        return value
    text = str(value).strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        raise ValueError(text[:20])
    return int(text)


class UploadForm(FlaskForm):
    kind = SelectField(
        _l("Kind of file"), choices=select_choices(KINDS), validators=[InputRequired()]
    )
    account = SelectField(_l("Into the account"), coerce=int, validators=[InputRequired()])
    category = SelectField(_l("Category for spending"), coerce=_optional_int)
    upload = FileField(_l("File"), validators=[FileRequired(_l("Choose a file."))])


class MappingForm(FlaskForm):
    date = SelectField(_l("Date"), coerce=_optional_int, validators=[Optional()])
    date_order = SelectField(_l("Dates are written"), choices=select_choices(DATE_ORDERS))
    amount = SelectField(_l("Amount (one signed column)"), coerce=_optional_int)
    sign = SelectField(_l("Sign of the amount"), choices=select_choices(SIGNS))
    withdrawal = SelectField(_l("Or: withdrawal (支出)"), coerce=_optional_int)
    deposit = SelectField(_l("and deposit (存入)"), coerce=_optional_int)
    payee = SelectField(_l("Payee or description"), coerce=_optional_int)
    note = SelectField(_l("Note"), coerce=_optional_int)
    category_column = SelectField(_l("Category (by name)"), coerce=_optional_int)
    category = SelectField(_l("Category for spending"), coerce=_optional_int)
    income_category = SelectField(_l("Category for income"), coerce=_optional_int)


class EInvoiceForm(FlaskForm):
    category = SelectField(_l("Category"), coerce=_optional_int)
    learn = BooleanField(_l("Use the category I last chose for the same store"))
    short_names = BooleanField(_l("Shorten store names (drop 股份有限公司)"))


def _category_choices(kind: CategoryKind, empty: str) -> list[Any]:
    pairs: list[tuple[str, str]] = [("", empty)]
    for node in categories.tree(db.session, user_id(), kind):
        pairs.append((str(node.category.id), node.category.name))
        pairs += [(str(c.id), f"{node.category.name} › {c.name}") for c in node.children]
    return select_choices(pairs)


def _upload_form() -> UploadForm:
    form = UploadForm()
    form.account.choices = select_choices(
        (a.id, f"{a.name} ({a.currency})")
        for a in accounts.list_accounts(db.session, user_id())
        if not a.read_only
    )
    form.category.choices = _category_choices(CategoryKind.EXPENSE, _("— choose later —"))
    return form


@bp.route("/imports", methods=["GET", "POST"], endpoint="imports")
@book_view
def imports_page() -> Response | tuple[str, int]:
    """The upload form and the imports made so far."""
    form = _upload_form()
    refused = False
    if form.validate_on_submit():
        upload = form.upload.data
        data = _read(upload)
        try:
            row = service.stage(
                db.session,
                user_id(),
                form.kind.data,
                form.account.data,
                getattr(upload, "filename", "") or "",
                data,
                form.category.data,
            )
        except (ValidationError, Conflict) as error:
            show_service_error(form, error)
            refused = True
        else:
            return redirect(url_for("book.import_review", import_id=row.id))
    return render_template(
        "book/imports/index.html",
        form=form,
        past=service.list_imports(db.session, user_id()),
        max_kb=MAX_IMPORT_BYTES // 1024,
        max_lines=MAX_IMPORT_LINES,
    ), form_page_status(form, refused)


def _read(upload: Any) -> bytes:
    """The upload's bytes (one more than the limit at most, enough to refuse it); the
    spooled file is closed at once."""
    try:
        return upload.stream.read(MAX_IMPORT_BYTES + 1)
    finally:
        upload.stream.close()


def _mapping_form(header: list[str], settings: Settings) -> MappingForm:
    form = MappingForm()
    columns = select_choices(
        [("", _("— none —"))]
        + [(str(i), name or _("Column %(num)s", num=i + 1)) for i, name in enumerate(header)]
    )
    for name in (*FIELDS[:-1], "category_column"):
        form[name].choices = columns
    form.category.choices = _category_choices(CategoryKind.EXPENSE, _("— choose —"))
    form.income_category.choices = _category_choices(CategoryKind.INCOME, _("— choose —"))
    if not form.is_submitted():
        mapping = settings.mapping or Mapping()
        for name in FIELDS[:-1]:
            form[name].data = getattr(mapping, name)
        form.category_column.data = mapping.category
        form.sign.data = "neg" if mapping.negative_is_spending else "pos"
        form.date_order.data = mapping.date_order
        form.category.data = settings.category_id
        form.income_category.data = settings.income_category_id
    return form


def _einvoice_form(settings: Settings) -> EInvoiceForm:
    form = EInvoiceForm()
    form.category.choices = _category_choices(CategoryKind.EXPENSE, _("— choose —"))
    if not form.is_submitted():
        form.category.data = settings.category_id
        form.learn.data = settings.learn
        form.short_names.data = settings.short_names
    return form


def _settings(form: FlaskForm, source: str) -> Settings:
    if source == "einvoice":
        return Settings(
            category_id=form.category.data,
            learn=bool(form.learn.data),
            short_names=bool(form.short_names.data),
        )
    mapping = Mapping(
        **{name: form[name].data for name in FIELDS[:-1]},
        category=form.category_column.data,
        negative_is_spending=form.sign.data != "pos",
        date_order=form.date_order.data,
    )
    return Settings(mapping, form.category.data, form.income_category.data)


@bp.route("/imports/<int:import_id>", methods=["GET", "POST"])
@book_view
def import_review(import_id: int) -> Response | tuple[str, int]:
    """A pending upload: its mapping, the preview, and the confirm; a finished import: what
    it did."""
    me = user_id()
    row = service.get_import(db.session, me, import_id)
    if row.status != "pending":
        return render_template("book/imports/result.html", row=row), 200
    settings = service.settings_of(db.session, me, import_id)
    if row.source == "csv":
        form: FlaskForm = _mapping_form(service.header(db.session, me, import_id), settings)
    else:
        form = _einvoice_form(settings)
    plan, status = None, 200
    if form.is_submitted() and not form.validate():
        status = 400
    elif form.is_submitted():
        done, plan, status = _apply(form, row.source, import_id)
        if done is not None:
            return done
    if plan is None and status != 409:
        plan = _safe_preview(import_id, form)
    return render_template(
        "book/imports/review.html",
        row=row,
        form=form,
        plan=plan,
        shown=(plan.lines[:PREVIEW_ROWS] if plan else []),
        line_message=service_message,
        account_digits=accounts.get_account(db.session, me, row.account_id or 0).minor_digits,
    ), status


def _safe_preview(import_id: int, form: FlaskForm) -> Plan | None:
    try:
        return service.preview(db.session, user_id(), import_id)
    except (ValidationError, Conflict) as error:
        show_service_error(form, error)
        return None


def _apply(
    form: FlaskForm, source: str, import_id: int
) -> tuple[Response | None, Plan | None, int]:
    """Preview with the form's settings, or confirm (``action=confirm``)."""
    settings = _settings(form, source)
    me = user_id()
    try:
        if request.form.get("action") != "confirm":
            return None, service.preview(db.session, me, import_id, settings), 200
        row = service.confirm(db.session, me, import_id, settings)
    except service.LinesRefused as error:
        form.form_errors.append(service_message(error))
        return None, service.preview(db.session, me, import_id), 409
    except (ValidationError, Conflict) as error:
        show_service_error(form, error)
        return None, None, 409
    flash(
        ngettext(
            "%(num)d transaction imported.", "%(num)d transactions imported.", row.rows_imported
        )
        + " "
        + ngettext("%(num)d duplicate skipped.", "%(num)d duplicates skipped.", row.rows_duplicate),
        "success",
    )
    return redirect(url_for("book.import_review", import_id=row.id)), None, 302


@bp.post("/imports/<int:import_id>/undo")
@book_view
def import_undo(import_id: int) -> Response:
    """Delete every transaction the import made (each can be restored from the trail)."""
    try:
        count = service.undo(db.session, user_id(), import_id)
    except Conflict as error:
        flash(service_message(error), "danger")
    else:
        flash(
            ngettext("%(num)d transaction removed.", "%(num)d transactions removed.", count),
            "success",
        )
    return redirect(url_for("book.imports"))


@bp.post("/imports/<int:import_id>/discard")
@book_view
def import_discard(import_id: int) -> Response:
    """Forget an upload that was not imported."""
    try:
        service.discard(db.session, user_id(), import_id)
    except Conflict as error:
        flash(service_message(error), "danger")
    else:
        flash(_("The upload was discarded; nothing was imported."), "success")
    return redirect(url_for("book.imports"))
