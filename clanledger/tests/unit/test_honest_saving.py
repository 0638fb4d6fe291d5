"""The saving's one definition (domain.savings.netting_saving) against an independent
computation: fees worked out here from the exchange's rule (the fee is ceil(price x rate);
the payer grosses the price up until the receiver gets the net), over random months with
per-sale payouts, a threshold-carrying plan, transfers paid before a reopen and balances
carried in."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from clanledger.domain.fees import FeePolicy
from clanledger.domain.money import Rate
from clanledger.domain.savings import netting_saving
from clanledger.domain.settlement import plan_settlement


def fee_of(net: int, bps: int, policy: FeePolicy) -> int:
    """The exchange fee of settling ``net``, computed from scratch."""

    def cut(price: int) -> int:
        return -(-price * bps // 10_000)

    if policy is FeePolicy.RECEIVER:
        return cut(net)
    gross = net
    while gross - cut(gross) < net:
        gross += 1
    return cut(gross)


nets = st.integers(1, 5_000)


@st.composite
def balances(draw):
    values = draw(st.lists(st.integers(-3_000, 3_000), min_size=1, max_size=6))
    out = {f"m{i}": v for i, v in enumerate(values)}
    out["m_last"] = -sum(values)
    return {k: v for k, v in out.items() if v}


@settings(max_examples=60, deadline=None)
@given(
    bps=st.sampled_from([0, 300, 500, 700, 1000]),
    policy=st.sampled_from([FeePolicy.PAYER, FeePolicy.RECEIVER]),
    owed=balances(),
    threshold=st.sampled_from([0, 50, 200, 1_000]),
    per_sale=st.lists(
        st.tuples(st.sampled_from("abc"), st.sampled_from("abcd"), st.integers(0, 4_000))
    ),
    paid=st.lists(nets, max_size=3),
    carried_in=st.dictionaries(st.sampled_from("xyz"), st.integers(-900, 900), max_size=3),
)
def test_the_saving_matches_an_independent_computation(
    bps, policy, owed, threshold, per_sale, paid, carried_in
):
    rate = Rate(bps)
    plan = plan_settlement(owed, rate, policy, carry_threshold=threshold)
    payouts = [(p, r, n) for p, r, n in per_sale if n and p != r]
    expected_per_sale = sum(fee_of(n, bps, policy) for _, _, n in payouts)
    expected_plan = sum(fee_of(t.net, bps, policy) for t in plan.transfers)
    expected_paid = sum(fee_of(n, bps, policy) for n in paid)
    carried_out = dict(plan.carried)
    expected_in = sum(fee_of(v, bps, policy) for v in carried_in.values() if v > 0)
    expected_out = sum(fee_of(v, bps, policy) for v in carried_out.values() if v > 0)
    expected = (expected_per_sale + expected_in) - (expected_plan + expected_paid + expected_out)

    per_sale_cost = (
        expected_per_sale,
        len(payouts),
    )  # the per-sale side's own tests: test_savings_explain
    savings = netting_saving(
        per_sale_cost,
        (plan.total_fees, len(plan.transfers)),
        (expected_paid, len(paid)),
        carried_in,
        carried_out,
        rate,
        policy,
    )
    assert savings.saved == expected
    assert plan.total_fees == expected_plan  # the plan's fees follow the exchange's rule
    # Carrying is not a saving: a balance carried in and carried out again cancels out.
    again = netting_saving((0, 0), (0, 0), (0, 0), carried_out, carried_out, rate, policy)
    assert again.saved == 0 and not again.is_cost
