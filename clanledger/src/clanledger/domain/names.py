"""Names people type: one written form, nothing invisible, no look-alike twins.

A name is NFKC-normalised (full-width ``Ｂｏｂ`` is ``Bob``, a compatibility ideograph its
unified form) and trimmed. Control and format characters (Unicode categories Cc and Cf:
zero-width spaces and joiners, bidirectional overrides, byte-order marks) are refused: they
are invisible, and ``B\u200bob`` or a right-to-left override would pass for another name.
Two names collide when their :func:`name_key` (the normalised name, case-folded) is equal.
"""

from __future__ import annotations

import unicodedata

from clanledger.domain.errors import DomainError
from clanledger.domain.messages import N_

# What a form shows for an InvalidName.
INVALID_NAME = N_(
    "Names are 1 to 64 characters, without invisible characters such as zero-width spaces."
)


class InvalidName(DomainError):
    """A name that is empty, too long, or holds an invisible character."""


def clean_name(text: str, max_length: int = 64) -> str:
    """``text`` normalised and trimmed; raises :class:`InvalidName` when it cannot be a name."""
    name = unicodedata.normalize("NFKC", text).strip()
    if not name:
        raise InvalidName("empty name")
    if len(name) > max_length:
        raise InvalidName(f"longer than {max_length} characters")
    hidden = [c for c in name if unicodedata.category(c) in ("Cc", "Cf")]
    if hidden:
        raise InvalidName(f"invisible character U+{ord(hidden[0]):04X}")
    return name


def name_key(name: str) -> str:
    """What two names must differ in: the normalised name, case-folded."""
    return unicodedata.normalize("NFKC", name).casefold()
