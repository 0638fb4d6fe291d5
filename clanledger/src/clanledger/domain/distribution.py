"""Distributing the diamonds of one sale: the clan-fund cut, then the shares by weight.

Rounding, step by step:

1. ``received`` is what the exchange actually paid the holder, as typed in from the game
   (the exchange fee was already taken by the game; nothing is recomputed here).
2. The clan fund gets ``floor(received * cut)``: the fund never takes a fraction of a diamond
   from the members.
3. The rest, ``received - fund``, is split among the participants by weight with
   :func:`~clanledger.domain.split.split_by_weight` (largest remainder, ties rotating with
   the item id). The shares sum exactly to the rest, so ``fund + sum(shares) == received``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Generic, TypeVar

from clanledger.domain.money import BPS_PER_UNIT, Rate, require_diamonds
from clanledger.domain.split import split_by_weight

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class SaleDistribution(Generic[K]):
    """Who gets what from one sale.

    Attributes:
        received: diamonds the holder received from the exchange.
        fund: the clan fund's cut.
        shares: participant -> diamonds; ``fund + sum(shares.values()) == received``.
    """

    received: int
    fund: int
    shares: dict[K, int]

    @property
    def distributed(self) -> int:
        """Diamonds that go to the participants (``received - fund``)."""
        return self.received - self.fund


def fund_cut_of(received: int, cut: Rate) -> int:
    """The clan fund's cut of ``received`` diamonds: ``floor(received * cut)``."""
    require_diamonds(received, "diamonds received")
    return received * cut.bps // BPS_PER_UNIT


def distribute_sale(
    received: int, fund_cut: Rate, weights: Mapping[K, Fraction | int], seed: int = 0
) -> SaleDistribution[K]:
    """Split the diamonds of one sale between the clan fund and the participants.

    Args:
        received: diamonds actually received from the exchange (>= 0).
        fund_cut: the clan-fund cut rate in force.
        weights: participant -> weight (1 full share, ``Fraction(1, 2)`` half a share).
        seed: the item id, rotating who gets the leftover diamonds of an even split.

    Raises:
        InvalidAmount, InvalidWeight, EmptyParticipants, ZeroTotalWeight: see
        :func:`~clanledger.domain.split.split_by_weight`.
    """
    fund = fund_cut_of(received, fund_cut)
    shares = split_by_weight(received - fund, weights, seed)
    return SaleDistribution(received=received, fund=fund, shares=shares)
