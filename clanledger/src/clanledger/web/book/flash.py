"""Flash messages of the book that carry an undo button (a small POST form)."""

from __future__ import annotations

from flask import flash, render_template
from markupsafe import Markup


def flash_with_undo(message: str, audit_id: int | None) -> None:
    """Flash ``message`` with a "復原 / Undo" button that POSTs ``/book/undo/<audit_id>``
    (Flask's session keeps the markup as markup)."""
    if audit_id is None:
        flash(message, "success")
        return
    html = render_template("book/_undo_flash.html", message=message, audit_id=audit_id)
    flash(Markup(html), "success")
