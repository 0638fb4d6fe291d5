"""Settlement planner benchmark: wall time, transfer counts against greedy, fee savings.

Prints three tables (nothing is asserted):

1. planner wall time and transfer counts for 10, 20, 30, 100 and 300 members with random
   balances, against our greedy and the greedy solver of the ``debts`` package (the one
   ihatemoney uses), on the same instances;
2. the exact optimum on 20 non-zero balances drawn from a small range (many zero-sum
   subsets, the hard case for the exact search);
3. the fees saved by monthly netting on a simulated month: 30 members, 120 sales, 5 % fee.

Run: ``.venv/bin/python clanledger/benchmarks/bench_settlement.py`` (``--help`` for options).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from fractions import Fraction

import debts

from clanledger.domain.distribution import distribute_sale
from clanledger.domain.fees import FeePolicy
from clanledger.domain.ledger import FUND, balances, member, sale_postings
from clanledger.domain.money import Rate
from clanledger.domain.payments import greedy_transfers
from clanledger.domain.savings import netting_savings, sale_payments
from clanledger.domain.settlement import plan_settlement

FEE = Rate(500)
SIZES = (10, 20, 30, 100, 300)


def random_balances(rng: random.Random, n: int, spread: int) -> dict[int, int]:
    """``n`` non-zero balances in ``[-spread, spread]`` summing to 0."""
    while True:
        values = [rng.choice((-1, 1)) * rng.randint(1, spread) for _ in range(n - 1)]
        last = -sum(values)
        if last:
            return {i: v for i, v in enumerate([*values, last])}


def without_opposite_pairs(rng: random.Random, n: int, spread: int) -> dict[int, int]:
    """Like :func:`random_balances` but with no ``+x``/``-x`` pair, so the exact search gets
    all ``n`` balances."""
    while True:
        b = random_balances(rng, n, spread)
        values = set(b.values())
        if not any(-v in values for v in values):
            return b


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def bench_sizes(seeds: int, repeats: int, spread: int) -> None:
    print(
        f"\n1. Planner on random balances in ±{spread:,} (median of {repeats} runs, {seeds} seeds)"
    )
    header = f"{'members':>7} {'method':>9} {'median s':>9} {'max s':>7} {'plan':>6}"
    print(f"{header} {'greedy':>7} {'debts':>6} {'saved vs debts':>15}")
    for n in SIZES:
        walls, plans, greedies, debts_counts, methods = [], [], [], [], set()
        for seed in range(seeds):
            b = random_balances(random.Random(seed * 1000 + n), n, spread)
            wall, plan = timed(lambda b=b: plan_settlement(b, FEE, FeePolicy.PAYER), repeats)
            walls.append(wall)
            plans.append(len(plan.transfers))
            methods.add(plan.method)
            greedies.append(len(greedy_transfers(b)))
            debts_counts.append(len(debts.settle(list(b.items()))))
        saved = sum(debts_counts) - sum(plans)
        print(
            f"{n:>7} {'/'.join(sorted(methods)):>9} {statistics.median(walls):>9.4f} "
            f"{max(walls):>7.3f} {statistics.mean(plans):>6.1f} "
            f"{statistics.mean(greedies):>7.1f} {statistics.mean(debts_counts):>6.1f} "
            f"{saved / seeds:>15.1f}"
        )
    print("   plan/greedy/debts: mean transfers per instance; saved: mean transfers fewer.")


def bench_exact_hard(seeds: int, repeats: int) -> None:
    print("\n2. Exact optimum, 20 non-zero balances, no opposite pairs, small ranges")
    print(f"{'range':>7} {'method':>7} {'median s':>9} {'max s':>7} {'plan':>6} {'greedy':>7}")
    for spread in (9, 30, 1000, 10**6):
        walls, plans, greedies, methods = [], [], [], set()
        for seed in range(seeds):
            b = without_opposite_pairs(random.Random(seed + spread), 20, spread)
            wall, plan = timed(lambda b=b: plan_settlement(b, FEE, FeePolicy.PAYER), repeats)
            methods.add(plan.method)
            walls.append(wall)
            plans.append(len(plan.transfers))
            greedies.append(len(greedy_transfers(b)))
        print(
            f"{spread:>7} {'/'.join(sorted(methods)):>7} {statistics.median(walls):>9.4f} "
            f"{max(walls):>7.3f} {statistics.mean(plans):>6.1f} {statistics.mean(greedies):>7.1f}"
        )


def simulated_month(seed: int, members: int = 30, sales: int = 120) -> None:
    rng = random.Random(seed)
    roster = [member(i) for i in range(1, members + 1)]
    journal, per_sale = [], []
    for item_id in range(sales):
        party = rng.sample(roster, rng.randint(4, 18))
        weights = {
            m: rng.choice((Fraction(1), Fraction(1), Fraction(1), Fraction(1, 2))) for m in party
        }
        holder = rng.choice(party)
        received = rng.randint(200, 40_000)
        d = distribute_sale(received, Rate(1000), weights, seed=item_id)
        journal += sale_postings(holder, d)
        per_sale += sale_payments(holder, d)
    month = balances(journal)
    for policy in FeePolicy:
        wall, plan = timed(
            lambda policy=policy: plan_settlement(month, FEE, policy, carry_accounts={FUND}), 3
        )
        s = netting_savings(per_sale, plan, FEE, policy)
        print(
            f"{policy.value:>8} {s.per_sale_transfers:>9} {s.per_sale_fees:>9,} "
            f"{s.plan_transfers:>6} {s.plan_fees:>7,} {s.saved:>9,} "
            f"{100 * s.saved / max(s.per_sale_fees, 1):>6.1f}% {wall:>7.4f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="instances per size (default 5)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per instance")
    parser.add_argument("--spread", type=int, default=20_000, help="balance range (±)")
    args = parser.parse_args()
    bench_sizes(args.seeds, args.repeats, args.spread)
    bench_exact_hard(args.seeds, args.repeats)
    print("\n3. Simulated month: 30 members, 120 sales (10 % fund cut kept by holders), 5 % fee")
    print(
        f"{'policy':>8} {'per-sale':>9} {'fees':>9} {'plan':>6} {'fees':>7} {'saved':>9} "
        f"{'saved':>7} {'plan s':>7}"
    )
    simulated_month(seed=7)


if __name__ == "__main__":
    main()
