"""Settlement planner benchmark: transfers against greedy and the proven lower bound, time.

Prints two tables (nothing is asserted):

1. for 20 to 1,000 open balances and three generators (uniform, many equal, hidden groups),
   10 seeds each: mean transfers of the plan, of greedy (largest debtor pays largest
   creditor) and of the proven lower bound, the share of plans proven fewest, and the median
   and largest wall time of :func:`plan_settlement` with its default 1 s budget;
2. re-plans after a payment, a partial payment and a late sale (20, 30 and 40 open
   uniform balances): the share of the previous plan's intact groups that keep their
   transfers, and re-plans longer than a fresh plan (there should be none);
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

from clanledger.domain.distribution import distribute_sale
from clanledger.domain.fees import FeePolicy
from clanledger.domain.ledger import FUND, balances, member, sale_postings
from clanledger.domain.money import Rate
from clanledger.domain.payments import components, greedy_transfers, tree_flows
from clanledger.domain.savings import netting_savings, sale_payments
from clanledger.domain.settlement import plan_settlement

FEE = Rate(500)
SIZES = (20, 25, 30, 40, 60, 100, 300, 1000)


def closed(values: list[int]) -> list[int]:
    """``values`` with a last balance that makes them sum to 0 (and no zero balance)."""
    values = [v for v in values if v]
    last = -sum(values)
    return [*values, last] if last else values


def uniform(rng: random.Random, n: int) -> list[int]:
    """Balances drawn uniformly from ±1 .. ±10,000."""
    return closed([rng.choice((-1, 1)) * rng.randint(1, 10_000) for _ in range(n - 1)])


def many_equal(rng: random.Random, n: int) -> list[int]:
    """Whole shares of one of three share sizes, as when drops are split evenly."""
    shares = [rng.randint(100, 2_000) for _ in range(3)]
    return closed([rng.choice(shares) * rng.choice((-3, -2, -1, 1, 2)) for _ in range(n - 1)])


def hidden_groups(rng: random.Random, n: int) -> list[int]:
    """Zero-sum groups of 3 to 6 random balances (±1 .. ±10,000), shuffled together."""
    values: list[int] = []
    while len(values) < n:
        size = max(min(rng.randint(3, 6), n - len(values)), 2)
        values += closed([rng.choice((-1, 1)) * rng.randint(1, 10_000) for _ in range(size - 1)])
    rng.shuffle(values)
    return [v for v in values if v]


GENERATORS: dict[str, Callable[[random.Random, int], list[int]]] = {
    "uniform": uniform,
    "many-equal": many_equal,
    "hidden": hidden_groups,
}


def bench_sizes(sizes: list[int], seeds: int, budget: float) -> None:
    print(f"\n1. Plans with a {budget:g} s budget ({seeds} seeds per row; means per instance)")
    print(
        f"{'generator':>10} {'open':>5} {'plan':>7} {'greedy':>7} {'lower':>7} "
        f"{'proven':>7} {'median s':>9} {'max s':>6}"
    )
    for name, generate in GENERATORS.items():
        for n in sizes:
            plans, greedies, lowers, proven, walls = [], [], [], 0, []
            for seed in range(seeds):
                values = generate(random.Random(seed * 10_007 + n), n)
                b = dict(enumerate(values))
                start = time.perf_counter()
                plan = plan_settlement(b, FEE, FeePolicy.PAYER, time_budget=budget)
                walls.append(time.perf_counter() - start)
                plans.append(len(plan.transfers))
                lowers.append(plan.lower_bound)
                proven += plan.proven_optimal
                greedies.append(len(greedy_transfers(b)))
            print(
                f"{name:>10} {n:>5} {statistics.mean(plans):>7.1f} "
                f"{statistics.mean(greedies):>7.1f} {statistics.mean(lowers):>7.1f} "
                f"{100 * proven / seeds:>6.0f}% {statistics.median(walls):>9.3f} "
                f"{max(walls):>6.2f}",
                flush=True,
            )


def changed(rng: random.Random, b: dict[int, int], plan, kind: str) -> dict[int, int]:
    """The balances after paying a planned transfer in full or in part, or a late sale."""
    after = dict(b)
    if kind == "late sale":
        payer, receiver = rng.sample(sorted(b), 2)
        amount = rng.randint(1, 2_000)
    else:
        t = rng.choice(plan.transfers)
        payer, receiver = t.payer, t.receiver
        amount = t.net if kind == "payment" else rng.randint(1, max(t.net - 1, 1))
    after[payer] += amount
    after[receiver] -= amount
    return after


def intact_kept(previous, replan, after: dict[int, int]) -> tuple[int, int]:
    """(intact groups of ``previous`` under ``after``, those whose transfers all stayed)."""
    everyone = {k: after.get(k, 0) for t in previous.transfers for k in (t.payer, t.receiver)}
    stayed = {(t.payer, t.receiver) for t in replan.transfers}
    intact = kept = 0
    for group, links in components(everyone, list(previous.transfers)):
        flows = tree_flows(group, links) if sum(group.values()) == 0 else None
        if flows is None:
            continue
        live = [t for t, f in zip(links, flows, strict=True) if f]
        for _, part in components({k: v for k, v in group.items() if v}, live):
            intact += 1
            kept += all((t.payer, t.receiver) in stayed for t in part)
    return intact, kept


def bench_replans(seeds: int, budget: float) -> None:
    print(f"\n2. Re-plans with a {budget:g} s budget ({seeds} seeds per row, uniform balances)")
    print(f"{'open':>5} {'change':>13} {'intact kept':>12} {'longer than fresh':>18} {'max s':>6}")
    for n in (20, 30, 40):
        for kind in ("payment", "partial", "late sale"):
            intact = kept = longer = 0
            walls = []
            for seed in range(seeds):
                rng = random.Random(seed * 10_007 + n)
                b = dict(enumerate(uniform(rng, n)))
                plan = plan_settlement(b, FEE, FeePolicy.PAYER, time_budget=budget)
                after = changed(rng, b, plan, kind)
                start = time.perf_counter()
                replan = plan_settlement(
                    after, FEE, FeePolicy.PAYER, time_budget=budget, previous=plan
                )
                walls.append(time.perf_counter() - start)
                fresh = plan_settlement(after, FEE, FeePolicy.PAYER, time_budget=budget)
                longer += len(replan.transfers) > len(fresh.transfers)
                counts = intact_kept(plan, replan, after)
                intact, kept = intact + counts[0], kept + counts[1]
            print(
                f"{n:>5} {kind:>13} {f'{kept}/{intact}':>12} {longer:>18} {max(walls):>6.2f}",
                flush=True,
            )


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


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
    parser.add_argument("--seeds", type=int, default=10, help="instances per row (default 10)")
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=list(SIZES),
        help="open balances per instance (default: 20 25 30 40 60 100 300 1000)",
    )
    parser.add_argument("--budget", type=float, default=1.0, help="time budget in seconds")
    args = parser.parse_args()
    if args.seeds < 1 or min(args.sizes) < 2 or args.budget <= 0:
        parser.error("--seeds must be at least 1, --sizes at least 2, --budget above 0")
    bench_sizes(args.sizes, args.seeds, args.budget)
    bench_replans(args.seeds, args.budget)
    print("\n3. Simulated month: 30 members, 120 sales (10 % fund cut kept by holders), 5 % fee")
    print(
        f"{'policy':>8} {'per-sale':>9} {'fees':>9} {'plan':>6} {'fees':>7} {'saved':>9} "
        f"{'saved':>7} {'plan s':>7}"
    )
    simulated_month(seed=7)


if __name__ == "__main__":
    main()
