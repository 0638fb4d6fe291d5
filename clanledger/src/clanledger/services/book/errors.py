"""Domain errors of the book as service errors (the web shows them translated)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from clanledger.domain.book.errors import BookInputError
from clanledger.domain.messages import N_
from clanledger.services.errors import ValidationError


@contextmanager
def as_validation() -> Iterator[None]:
    """Turn a :class:`BookInputError` raised inside into a :class:`ValidationError`."""
    try:
        yield
    except BookInputError as exc:
        raise ValidationError(exc.message, field=exc.field, params=exc.params) from exc


def clean_name(name: str) -> str:
    """An account's or a category's name: spaces collapsed, 1 to 64 characters."""
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationError(N_("Enter a name."), field="name")
    if len(name) > 64:
        raise ValidationError(N_("Names are at most 64 characters."), field="name")
    return name
