"""Domain errors of the book as service errors (the web shows them translated)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from clanledger.domain.book.errors import BookInputError
from clanledger.services.errors import ValidationError


@contextmanager
def as_validation() -> Iterator[None]:
    """Turn a :class:`BookInputError` raised inside into a :class:`ValidationError`."""
    try:
        yield
    except BookInputError as exc:
        raise ValidationError(exc.message, field=exc.field, params=exc.params) from exc
