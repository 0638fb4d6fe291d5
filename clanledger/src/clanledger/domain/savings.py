"""What monthly netting saves: exchange fees if every share were paid out after each sale,
against the fees of the netted plan."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from clanledger.domain.distribution import SaleDistribution
from clanledger.domain.fees import FeePolicy, transfer_terms
from clanledger.domain.money import Rate, require_diamonds
from clanledger.domain.payments import Payment
from clanledger.domain.settlement import SettlementPlan

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Savings:
    """Fees and transfer counts of per-sale payouts against the netted plan.

    Attributes:
        per_sale_fees: diamonds the exchange would keep if every share were paid at once.
        plan_fees: diamonds the exchange keeps under the plan.
        saved: ``per_sale_fees - plan_fees``.
        per_sale_transfers: transfers per-sale payouts would need.
        plan_transfers: transfers in the plan.
    """

    per_sale_fees: int
    plan_fees: int
    saved: int
    per_sale_transfers: int
    plan_transfers: int


def sale_payments(
    holder: K, distribution: SaleDistribution[K], fund_payee: K | None = None
) -> list[Payment[K]]:
    """The payments that would pay out one sale at once: the holder pays each other
    participant their share. The fund's cut is paid to ``fund_payee`` when the fund has a
    character of its own; without one the holder keeps it, which costs no transfer."""
    payments = [
        Payment(holder, k, share)
        for k, share in distribution.shares.items()
        if k != holder and share > 0
    ]
    if fund_payee is not None and fund_payee != holder and distribution.fund > 0:
        payments.append(Payment(holder, fund_payee, distribution.fund))
    return payments


def per_sale_cost(
    per_sale_payments: Iterable[tuple[K, K, int]], rate: Rate, policy: FeePolicy
) -> tuple[int, int]:
    """``(fees, transfers)`` of paying every share right after each sale.

    Each payment of ``net`` is priced like a plan transfer under the same rate and policy
    (:func:`~clanledger.domain.fees.transfer_terms`), so both sides round the same way.
    Payments of 0 and payments to oneself cost nothing and are not counted.
    """
    fees = 0
    count = 0
    for payer, receiver, net in per_sale_payments:
        require_diamonds(net, "payment")
        if net == 0 or payer == receiver:
            continue
        fees += transfer_terms(net, rate, policy)[1]
        count += 1
    return fees, count


def compare_with_plan(
    per_sale_fees: int, per_sale_transfers: int, plan: SettlementPlan[K]
) -> Savings:
    """The :class:`Savings` of ``plan`` against per-sale payouts costing ``per_sale_fees``
    in ``per_sale_transfers`` transfers (see :func:`per_sale_cost`)."""
    plan_fees = plan.total_fees
    return Savings(
        per_sale_fees=per_sale_fees,
        plan_fees=plan_fees,
        saved=per_sale_fees - plan_fees,
        per_sale_transfers=per_sale_transfers,
        plan_transfers=len(plan.transfers),
    )


def netting_savings(
    per_sale_payments: Iterable[tuple[K, K, int]],
    plan: SettlementPlan[K],
    rate: Rate,
    policy: FeePolicy,
) -> Savings:
    """Compare paying every share right after each sale with the netted plan
    (:func:`per_sale_cost` against the plan's fees)."""
    return compare_with_plan(*per_sale_cost(per_sale_payments, rate, policy), plan)
