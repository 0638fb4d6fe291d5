"""Data-driven clan navigation.

Blueprint modules register their clan pages at import time::

    from flask_babel import lazy_gettext as _l
    from clanledger.web.nav import register_nav

    register_nav("kills.index", _l("Kills"), min_role=Role.MEMBER, order=20)

``base.html`` shows the entries the current member's role may see, in ``order``, whenever a
clan page is displayed (``g.clan`` is set by ``clan_view``). Every endpoint must take a
``clan_id`` URL parameter and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, g, request, url_for

from clanledger.models import Role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any  # a lazy_gettext string, translated when rendered
    min_role: Role
    order: int

    @property
    def blueprint(self) -> str:
        return self.endpoint.rpartition(".")[0]


_ITEMS: dict[str, NavItem] = {}
# Blueprints without an entry of their own, shown under another's (auctions under items).
_PARENTS: dict[str, str] = {}


def register_nav(endpoint: str, label: Any, min_role: Role = Role.MEMBER, order: int = 50) -> None:
    """Add (or replace) a clan navigation entry. Safe to call again on re-import."""
    _ITEMS[endpoint] = NavItem(endpoint, label, Role(min_role), order)


def register_nav_parent(blueprint: str, endpoint: str) -> None:
    """Light up ``endpoint``'s entry on the pages of ``blueprint``, which has none."""
    _PARENTS[blueprint] = endpoint


def nav_items(role: Role) -> list[NavItem]:
    """The entries a member with ``role`` may see, in display order."""
    visible = [item for item in _ITEMS.values() if role.rank >= item.min_role.rank]
    return sorted(visible, key=lambda item: (item.order, item.endpoint))


def registered_items() -> list[NavItem]:
    """Every registered entry (tests check they all resolve)."""
    return sorted(_ITEMS.values(), key=lambda item: (item.order, item.endpoint))


def clan_nav_context() -> dict[str, Any]:
    """Template context: ``clan_nav``, the entries for the current clan page."""
    membership = g.get("membership")
    clan = g.get("clan")
    if membership is None or clan is None:
        return {"clan_nav": []}
    current = request.endpoint or ""
    items = [i for i in nav_items(membership.role) if i.endpoint in _known_endpoints()]
    # The page's own entry; else the first entry of its blueprint (a kill under "Kills").
    # Blueprints with several entries (my statement, balances) must not light up together.
    blueprint = current.split(".")[0]
    parent = _PARENTS.get(blueprint)
    active = next((i for i in items if i.endpoint in (current, parent)), None) or next(
        (i for i in items if i.blueprint not in {"", "clans"} and blueprint == i.blueprint),
        None,
    )
    entries = [
        {
            "url": url_for(item.endpoint, clan_id=clan.id),
            "label": item.label,
            "active": item is active,
        }
        for item in items
    ]
    return {"clan_nav": entries}


def _known_endpoints() -> set[str]:
    return set(current_app.view_functions)
