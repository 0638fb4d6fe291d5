"""The REST API under ``/api/v1``, built on flask-smorest: bearer tokens, problem details,
a rate limit per token, the OpenAPI document and a local docs page.

:func:`init_app` wires it; requests go through :mod:`clanledger.api.blueprint`, the
resources are in :mod:`clanledger.api.resources`.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template
from flask_smorest import Api

from clanledger.api import (  # noqa: F401 (their routes)
    book,
    drops,
    kills,
    periods,
    resources,
    statements,
    transfers,
)
from clanledger.api.schemas import ProblemSchema

docs = Blueprint("api_docs", __name__, url_prefix="/api/v1")


class ClanledgerApi(Api):
    """flask-smorest's Api with problem details as its documented error, handled by the API
    blueprint only: the web pages keep their own error pages."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """The API blueprint registers its own (:mod:`clanledger.api.blueprint`)."""


@docs.get("/docs")
def docs_page() -> str:
    """A readable page of every operation, made from the OpenAPI document (no CDN)."""
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return render_template("api/docs.html", spec=spec)


def init_app(app: Flask) -> None:
    """Register the API, its OpenAPI document (``/api/v1/openapi.json``) and docs page
    (``/api/v1/docs``). ``API_RATE_LIMIT`` is the limit of each token."""
    app.config.setdefault("API_TITLE", "clanledger")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    api = ClanledgerApi(app)
    api.register_blueprint(resources.bp)
    app.register_blueprint(docs)
