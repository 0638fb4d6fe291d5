"""The exchange fee: the only way diamonds move between players costs a fee.

A transfer works like this: the receiver lists a junk item at price ``gross``, the payer
buys it, and the exchange keeps :func:`exchange_fee` of the price; the receiver gets the rest.

Rounding (chosen once, used everywhere): the fee is rounded **up** to a whole diamond,
``fee = ceil(gross * rate)``. This is the cautious reading of the exchange: whether the game
rounds its fee up, down or to nearest, it never keeps more than the ceiling, so a receiver paid
through :func:`gross_up` always gets at least the net amount. With this rule the receiver gets
``floor(gross * (1 - rate))`` and :func:`gross_up` is exactly ``ceil(net / (1 - rate))``, the
price the players already compute by hand, and the receiver then gets exactly ``net``.
"""

from __future__ import annotations

from enum import StrEnum

from clanledger.domain.errors import InvalidAmount, InvalidRate
from clanledger.domain.money import BPS_PER_UNIT, Rate, require_diamonds


class FeePolicy(StrEnum):
    """Who bears the exchange fee of a settlement transfer (a clan setting).

    * ``PAYER``: the payer grosses up: the receiver lists at ``gross_up(net)``, the payer buys
      it and the receiver ends with exactly ``net``. The payer is charged the fee.
    * ``RECEIVER``: the receiver absorbs it: the listing is at ``net``, the receiver ends with
      ``net - fee`` and is charged the fee.
    * ``FUND``: the clan fund pays it: the listing is at ``gross_up(net)`` as for ``PAYER``, so
      the receiver ends with exactly ``net``; the payer advanced the fee, so the payer is
      credited the fee and the clan fund is charged it. The payer's credit opens the next period.
    """

    PAYER = "payer"
    RECEIVER = "receiver"
    FUND = "fund"


MAX_EXCHANGE_FEE = Rate(5000)
"""The highest exchange fee a clan may set (50 %); a :class:`Rate` is always below 100 %."""


def require_exchange_fee(bps: int) -> Rate:
    """The exchange fee of ``bps`` basis points, between 0 % and :data:`MAX_EXCHANGE_FEE`.

    Raises:
        InvalidRate: out of that range.
    """
    rate = Rate(bps)
    if rate > MAX_EXCHANGE_FEE:
        raise InvalidRate(f"the exchange fee must be at most {MAX_EXCHANGE_FEE}, got {rate}")
    return rate


def require_fund_cut(bps: int) -> Rate:
    """The clan-fund cut of ``bps`` basis points: any :class:`Rate` (0 % to below 100 %).

    Raises:
        InvalidRate: out of that range.
    """
    return Rate(bps)


def exchange_fee(gross: int, rate: Rate) -> int:
    """What the exchange keeps from a sale at price ``gross``: ``ceil(gross * rate)``.

    Raises:
        InvalidAmount: ``gross`` is negative or not a whole number.
    """
    require_diamonds(gross, "listing price")
    return -(-gross * rate.bps // BPS_PER_UNIT)


def received_from(gross: int, rate: Rate) -> int:
    """What the seller receives from a sale at ``gross``: ``gross - exchange_fee(gross)``."""
    return gross - exchange_fee(gross, rate)


def gross_up(net: int, rate: Rate) -> int:
    """The smallest listing price ``P`` with ``received_from(P) >= net``.

    With the ceiling fee of :func:`exchange_fee` this is ``ceil(net / (1 - rate))`` in integers
    (``ceil(net * 10000 / (10000 - bps))``) and ``received_from(P) == net`` exactly.

    Raises:
        InvalidAmount: ``net`` is negative or not a whole number.
    """
    require_diamonds(net, "net amount")
    price = -(-net * BPS_PER_UNIT // (BPS_PER_UNIT - rate.bps))
    if received_from(price, rate) < net:  # pragma: no cover - guarded by the algebra above
        raise InvalidAmount(f"cannot gross up {net} at {rate}")
    return price


def transfer_terms(net: int, rate: Rate, policy: FeePolicy) -> tuple[int, int]:
    """The listing price and the fee of a transfer that settles ``net`` under ``policy``.

    Returns:
        ``(gross, fee)``: the receiver lists at ``gross`` and the payer buys it; the exchange
        keeps ``fee``; the receiver gets ``gross - fee`` (``net`` for PAYER and FUND,
        ``net - fee`` for RECEIVER).
    """
    gross = net if policy is FeePolicy.RECEIVER else gross_up(net, rate)
    return gross, exchange_fee(gross, rate)
