from __future__ import annotations

from flask import Blueprint

bp = Blueprint("main", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
