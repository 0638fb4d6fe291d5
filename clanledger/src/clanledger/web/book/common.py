"""What every book page shares: the blueprint, the login-and-setup decorator, the book's
section tabs and the amount filter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, current_app, g, request, url_for
from flask_login import current_user, login_required

from clanledger.domain.book.money import format_amount
from clanledger.extensions import db
from clanledger.services.book.accounts import ensure_book

bp = Blueprint("book", __name__, url_prefix="/book")

F = TypeVar("F", bound=Callable[..., Any])


def book_view(view: F) -> F:
    """Require login and make the user's book on first visit. Sets ``g.book_user_id``; the
    view passes it to every service call. Marks the view ``personal`` for the privacy
    sweep."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        ensure_book(db.session, current_user.id)
        g.book_user_id = current_user.id
        for hook in _ON_VISIT:
            hook(db.session, current_user.id)
        return view(*args, **kwargs)

    protected = login_required(wrapped)
    protected.personal = True  # type: ignore[attr-defined]
    return protected  # type: ignore[return-value]


_ON_VISIT: list[Callable[[Any, int], None]] = []


def register_on_visit(hook: Callable[[Any, int], None]) -> None:
    """Run ``hook(session, user_id)`` before every book page (recurring transactions due,
    the clan mirror): each must be idempotent, cheap when there is nothing to do, and
    commit its own work."""
    if hook not in _ON_VISIT:
        _ON_VISIT.append(hook)


@dataclass(frozen=True)
class HomePanel:
    template: str
    load: Callable[[Any, int], dict[str, Any]]
    order: int


_PANELS: dict[str, HomePanel] = {}


def register_home_panel(
    template: str, load: Callable[[Any, int], dict[str, Any]], order: int = 50
) -> None:
    """Show ``template`` on the book's home page, rendered with ``panel`` set to
    ``load(session, user_id)`` (budgets left this month, the clan link...)."""
    _PANELS[template] = HomePanel(template, load, order)


def home_panels(session: Any, user_id: int) -> list[tuple[str, dict[str, Any]]]:
    """The registered panels with their data, in order."""
    panels = sorted(_PANELS.values(), key=lambda p: (p.order, p.template))
    return [(p.template, p.load(session, user_id)) for p in panels]


@dataclass(frozen=True)
class BookTab:
    endpoint: str
    label: Any  # lazy_gettext
    order: int


_TABS: dict[str, BookTab] = {}


def register_book_tab(endpoint: str, label: Any, order: int = 50) -> None:
    """Add a section tab to every book page (the modules register theirs at import)."""
    _TABS[endpoint] = BookTab(endpoint, label, order)


@bp.app_context_processor
def book_tabs() -> dict[str, Any]:
    """``book_tabs`` for ``book/_layout.html``: the registered sections that exist."""
    if not (request.endpoint or "").startswith("book."):
        return {}
    known = current_app.view_functions
    tabs = [
        {
            "url": url_for(tab.endpoint),
            "label": tab.label,
            "active": tab.endpoint == request.endpoint
            or request.endpoint in _SECTIONS.get(tab.endpoint, ()),
        }
        for tab in sorted(_TABS.values(), key=lambda t: (t.order, t.endpoint))
        if tab.endpoint in known
    ]
    return {"book_tabs": tabs}


_SECTIONS: dict[str, tuple[str, ...]] = {}


def register_book_section(tab_endpoint: str, *endpoints: str) -> None:
    """Light up ``tab_endpoint``'s tab on the pages ``endpoints`` too (an edit page under
    its list)."""
    _SECTIONS[tab_endpoint] = (*_SECTIONS.get(tab_endpoint, ()), *endpoints)


@bp.app_template_filter("book_money")
def book_money(minor: int | None, digits: int = 0) -> str:
    """An amount in minor units with its decimals: ``{{ 123450 | book_money(2) }}`` is
    ``1,234.50``."""
    return "" if minor is None else format_amount(int(minor), int(digits))


def user_id() -> int:
    """The signed-in user whose book the request reads (set by :func:`book_view`)."""
    return g.book_user_id


def open_book(session: Any, user_id: int) -> None:
    """What :func:`book_view` does before a page, for callers that are not pages (the REST
    API): make the book on first use and run the visit hooks, so a client sees the recurring
    transactions due and the clan mirror exactly as the pages do."""
    ensure_book(session, user_id)
    for hook in _ON_VISIT:
        hook(session, user_id)
