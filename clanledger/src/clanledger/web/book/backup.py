"""Export and backup (匯出備份): the book as CSV or XLSX, the JSON backup, and its restore
from an uploaded file."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from clanledger.extensions import db
from clanledger.i18n import select_timezone, service_message
from clanledger.services.book import backup as service
from clanledger.services.book import export
from clanledger.services.errors import Conflict, ValidationError
from clanledger.web.book.common import book_view, bp, register_book_tab, user_id

register_book_tab("book.export_index", _l("Export & backup"), order=90)

MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
MAX_UPLOAD = 20 * 1024 * 1024


def _download(body: bytes, name: str, fmt: str) -> Response:
    """``body`` as an attachment ``<name>.<fmt>`` (UTF-8 name with an ASCII fallback)."""
    fallback = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    disposition = (
        f'attachment; filename="{fallback}.{fmt}"; '
        f"filename*=UTF-8''{quote(f'{name}.{fmt}', safe='')}"
    )
    return Response(body, mimetype=MIME[fmt], headers={"Content-Disposition": disposition})


def _name(what: str) -> str:
    """``<what>-<today>``, today where the reader is."""
    day = datetime.now(ZoneInfo(select_timezone())).date()
    return f"{what}-{day.isoformat()}"


@bp.get("/export")
@book_view
def export_index() -> str:
    return render_template(
        "book/reports/export.html", transactions=service.transaction_count(db.session, user_id())
    )


@bp.get("/export/csv")
@book_view
def export_csv() -> Response:
    body = export.transactions_csv(db.session, user_id(), _)
    return _download(body, _name(_("book")), "csv")


@bp.get("/export/xlsx")
@book_view
def export_xlsx() -> Response:
    body = export.workbook(db.session, user_id(), _)
    return _download(body, _name(_("book")), "xlsx")


@bp.get("/export/backup")
@book_view
def export_backup() -> Response:
    body = service.backup_bytes(db.session, user_id())
    return _download(body, _name("book-backup"), "json")


@bp.post("/export/restore")
@book_view
def export_restore() -> BaseResponse | tuple[str, int]:
    """Restore an uploaded backup; a refused file is shown again with the reason (400),
    a book with transactions without the confirmation box is a 409."""
    upload = request.files.get("backup")
    raw = upload.read(MAX_UPLOAD + 1) if upload else b""
    me = user_id()
    if not raw:
        return _again(_("Choose a backup file (.json) to restore."), 400)
    try:
        count = service.restore(db.session, me, raw, replace=request.form.get("confirm") == "yes")
    except ValidationError as error:
        return _again(service_message(error), 400)
    except Conflict as error:
        return _again(service_message(error), 409)
    flash(_("The backup was restored: %(count)s transactions.", count=count), "success")
    return redirect(url_for("book.export_index"))


def _again(message: str, status: int) -> tuple[str, int]:
    page = render_template(
        "book/reports/export.html",
        transactions=service.transaction_count(db.session, user_id()),
        error=message,
    )
    return page, status
