"""What monthly netting saves: exchange fees if every share were paid out after each sale,
against the fees of the transfers that actually settle the month.

The one definition (:func:`netting_saving`, shown on the close page as
:data:`SAVING_DEFINITION`)::

    saved = (per-sale fees + fees of settling the balances carried in)
          - (fees of this plan + fees of transfers already paid before a reopen
             + fees of settling the balances carried out)

A carried balance is priced as one transfer of its amount (each positive one: somebody has
to receive it), on both sides, so carrying a balance forward is neither a saving nor a cost:
it is settled, and counted, in the month that settles it. The figure may be negative (the
month settled carried-in balances more expensively than paying each sale would have): the
pages then show it as a cost.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from clanledger.domain.distribution import SaleDistribution
from clanledger.domain.fees import FeePolicy, transfer_terms
from clanledger.domain.messages import N_
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
        saved: see :func:`netting_saving` (the module's definition).
        per_sale_transfers: transfers per-sale payouts would need.
        plan_transfers: transfers in the plan.
        paid_fees, paid_transfers: transfers of the month already paid before a reopen
            (they settle the month too).
        carried_in_fees: what settling the balances carried into the month costs.
        carried_out_fees: what settling the balances the plan carries forward will cost.
    """

    per_sale_fees: int
    plan_fees: int
    saved: int
    per_sale_transfers: int
    plan_transfers: int
    paid_fees: int = 0
    paid_transfers: int = 0
    carried_in_fees: int = 0
    carried_out_fees: int = 0

    @property
    def settling_fees(self) -> int:
        """Fees of every transfer that settles the month (the plan and the ones paid)."""
        return self.plan_fees + self.paid_fees

    @property
    def is_cost(self) -> bool:
        return self.saved < 0


SAVING_DEFINITION = N_(
    "Saving = the fees paying every share right after each sale would have cost, minus the "
    "fees of the transfers that settle the month (including transfers paid before a "
    "reopen). Balances carried forward or carried in are priced as one transfer each on "
    "both sides: carrying is not a saving."
)
SAVING_IS_A_COST = N_(
    "This month netting costs more than paying each sale at once: it settles balances "
    "carried in from earlier months, or transfers paid before a reopen, that cost fees of "
    "their own."
)


def carried_fees(carried: Mapping[K, int], rate: Rate, policy: FeePolicy) -> int:
    """Fees of settling carried balances: one transfer to each positive balance."""
    return sum(transfer_terms(v, rate, policy)[1] for v in carried.values() if v > 0)


def netting_saving(
    per_sale: tuple[int, int],
    plan: tuple[int, int],
    paid: tuple[int, int],
    carried_in: Mapping[K, int],
    carried_out: Mapping[K, int],
    rate: Rate,
    policy: FeePolicy,
) -> Savings:
    """The month's :class:`Savings` by the module's one definition.

    Args:
        per_sale: ``(fees, transfers)`` of paying every share right after each sale.
        plan: ``(fees, transfers)`` of the plan the close creates.
        paid: ``(fees, transfers)`` of the month's transfers already paid before a reopen.
        carried_in: balances an earlier close carried into the month (by account).
        carried_out: balances the plan carries forward (by account).
    """
    carried_in_fees = carried_fees(carried_in, rate, policy)
    carried_out_fees = carried_fees(carried_out, rate, policy)
    saved = (per_sale[0] + carried_in_fees) - (plan[0] + paid[0] + carried_out_fees)
    return Savings(
        per_sale_fees=per_sale[0],
        plan_fees=plan[0],
        saved=saved,
        per_sale_transfers=per_sale[1],
        plan_transfers=plan[1],
        paid_fees=paid[0],
        paid_transfers=paid[1],
        carried_in_fees=carried_in_fees,
        carried_out_fees=carried_out_fees,
    )


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
    """The :class:`Savings` of ``plan`` alone against per-sale payouts costing
    ``per_sale_fees`` in ``per_sale_transfers`` transfers (see :func:`per_sale_cost`): a
    month with nothing carried and nothing paid before a reopen (:func:`netting_saving`)."""
    return Savings(
        per_sale_fees=per_sale_fees,
        plan_fees=plan.total_fees,
        saved=per_sale_fees - plan.total_fees,
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
