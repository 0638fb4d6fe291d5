"""Bad input to the book's rules. ``message`` is an ``N_`` msgid shown translated by the web
layer with ``params``; ``field`` names the form field it belongs to, when there is one."""

from __future__ import annotations

from typing import Any

from clanledger.domain.errors import DomainError


class BookInputError(DomainError):
    def __init__(
        self, message: str, params: dict[str, Any] | None = None, field: str | None = None
    ) -> None:
        self.message = message
        self.params = dict(params or {})
        self.field = field
        super().__init__(message % self.params if self.params else message)
