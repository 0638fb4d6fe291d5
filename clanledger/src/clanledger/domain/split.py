"""Splitting whole diamonds by weight with the largest-remainder (Hamilton) method.

Each participant's exact quota is ``amount * weight / total_weight``. Everyone first gets the
floor of their quota; the few diamonds left over (fewer than the number of participants) go
one each to the largest fractional remainders. Remainders that tie are ordered by a rotation
of the participants (in :func:`~clanledger.domain.ordering.canonical_order`) that starts at
``seed mod n``: with the item id as the seed, the extra diamond of an even split goes to a
different member for each item instead of always to the same one.

Guarantees: the parts sum exactly to ``amount``; each part is its quota rounded down or up;
a participant with weight 0 gets 0.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from decimal import InvalidOperation
from fractions import Fraction
from typing import TypeVar

from clanledger.domain.errors import EmptyParticipants, InvalidWeight, ZeroTotalWeight
from clanledger.domain.money import require_diamonds
from clanledger.domain.ordering import canonical_order

K = TypeVar("K", bound=Hashable)


def parse_weight(text: str | int | Fraction) -> Fraction:
    """Parse a participant weight: ``"1"``, ``"0.5"``, ``"1/2"``, ``"1.25"``.

    Raises:
        InvalidWeight: not a number or a fraction, or negative.
    """
    if isinstance(text, bool):
        raise InvalidWeight(f"a weight is a number such as 1, 0.5 or 1/2, got {text!r}")
    try:
        value = Fraction(text.strip()) if isinstance(text, str) else Fraction(text)
    except (ValueError, ZeroDivisionError, TypeError, InvalidOperation):
        raise InvalidWeight(f"a weight is a number such as 1, 0.5 or 1/2, got {text!r}") from None
    if value < 0:
        raise InvalidWeight(f"a weight cannot be negative, got {text!r}; use 0 to give no share")
    return value


def split_by_weight(
    amount: int, weights: Mapping[K, Fraction | int], seed: int = 0
) -> dict[K, int]:
    """Split ``amount`` diamonds among the keys of ``weights`` in proportion to the weights.

    Args:
        amount: whole diamonds to split (>= 0).
        weights: participant -> weight (>= 0, exact: ``int`` or ``Fraction``).
        seed: rotates the tie-break for equal remainders; pass the item id.

    Returns:
        participant -> diamonds, in canonical participant order; the values sum to ``amount``.

    Raises:
        InvalidAmount: ``amount`` is negative or not whole.
        InvalidWeight: a weight is negative or not an exact number.
        EmptyParticipants: ``weights`` is empty.
        ZeroTotalWeight: every weight is 0.
    """
    require_diamonds(amount, "amount to split")
    if not weights:
        raise EmptyParticipants("nobody to split with: add at least one participant")
    members = canonical_order(weights)
    exact = {member: _exact_weight(member, weights[member]) for member in members}
    total = sum(exact.values(), Fraction(0))
    if total == 0:
        raise ZeroTotalWeight(
            "every participant has weight 0: give at least one participant a weight above 0"
        )
    shares: dict[K, int] = {}
    remainders: dict[K, Fraction] = {}
    for member in members:
        quota = amount * exact[member] / total
        shares[member] = quota.numerator // quota.denominator
        remainders[member] = quota - shares[member]
    leftover = amount - sum(shares.values())
    offset = seed % len(members)
    rank = {member: (index - offset) % len(members) for index, member in enumerate(members)}
    for member in sorted(members, key=lambda m: (-remainders[m], rank[m]))[:leftover]:
        shares[member] += 1
    return shares


def _exact_weight(member: object, weight: object) -> Fraction:
    if isinstance(weight, bool) or not isinstance(weight, int | Fraction):
        raise InvalidWeight(
            f"the weight of {member} must be an int or a Fraction, got {weight!r}; "
            "parse text with parse_weight()"
        )
    if weight < 0:
        raise InvalidWeight(f"the weight of {member} cannot be negative, got {weight}")
    return Fraction(weight)
