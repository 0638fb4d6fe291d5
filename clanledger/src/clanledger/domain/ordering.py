"""A canonical order for arbitrary keys, so that every tie is broken the same way.

Keys that compare with each other (ints, strings, :class:`~clanledger.domain.ledger.Account`)
are sorted naturally. Mixed or unorderable keys fall back to ``(type name, repr)``, which is
still deterministic from run to run as long as ``repr`` is.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def canonical_order(keys: Iterable[K]) -> list[K]:
    """Return ``keys`` sorted in the order every tie-break in the domain uses."""
    items = list(keys)
    try:
        return sorted(items)  # type: ignore[type-var]
    except TypeError:
        return sorted(items, key=lambda k: (type(k).__name__, repr(k)))
