"""Wallet benchmark: what netting per wallet saves on the demo clan, and what it costs the
close preview in time.

Seeds the demo clan (``seed-demo``: 29 members, alts sharing their main's wallet) into a
throwaway SQLite database and prints, for each open month (nothing is asserted):

1. the plan netted per character: transfers and fees (with those of settling what it
   carries forward), and the transfers a player pays to themselves (payer and receiver
   characters of one player), with their fees;
2. the plan netted per wallet, likewise; the saving shown on the close page; the diamonds
   the wallet netting entry moves; the players who pay on one character while receiving on
   another, per character -> per wallet;
3. the median time of building the close preview with the wallets and with every character
   on its own (the planner's cache cleared before each run, so both plans are searched).

Run: ``.venv/bin/python clanledger/benchmarks/bench_wallets.py`` (``--help`` for options).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select, update

from clanledger import create_app
from clanledger.extensions import db
from clanledger.models import Character, Clan, Period, PeriodStatus
from clanledger.services import demo
from clanledger.services.close_preview import build_preview, cached_plan


def _self_payments(preview, owner: dict[int, int | None]) -> tuple[int, int]:
    mine = [t for t in preview.transfers if owner.get(t.payer_id) == owner.get(t.receiver_id)]
    return len(mine), sum(t.fee for t in mine)


def _both_ways(preview, owner: dict[int, int | None]) -> int:
    """Players who pay on one character while receiving on another."""
    pays = {owner.get(t.payer_id) for t in preview.transfers}
    gets = {owner.get(t.receiver_id) for t in preview.transfers}
    return len(pays & gets - {None})


def _timed(clan: Clan, period: Period, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        cached_plan.cache_clear()
        start = time.perf_counter()
        build_preview(db.session, clan, period)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs) * 1000


def _months(clan: Clan) -> list[Period]:
    return list(
        db.session.execute(
            select(Period)
            .where(Period.clan_id == clan.id, Period.status == PeriodStatus.OPEN)
            .order_by(Period.starts_on)
        ).scalars()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per month (15)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'wallets.sqlite3'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            db.create_all()
            result = demo.seed_demo(db.session)
            clan = db.session.get(Clan, result.clan_id)
            owner = dict(
                db.session.execute(
                    select(Character.id, Character.user_id).where(Character.clan_id == clan.id)
                ).all()
            )
            grouped = dict(
                db.session.execute(
                    select(Character.id, Character.wallet_character_id).where(
                        Character.clan_id == clan.id
                    )
                ).all()
            )
            print(f"demo clan: {result.members} members, {result.characters} characters, "
                  f"{sum(1 for v in grouped.values() if v)} alts sharing a wallet")  # fmt: skip
            print(f"{'month':8} {'per character':>28} {'self-paid':>16} {'per wallet':>20} "
                  f"{'saved':>18} {'netting':>9} {'both ways':>9} {'ms wallets':>11} "
                  f"{'ms own':>8}")  # fmt: skip
            rows = []
            for period in _months(clan):
                with_wallets = build_preview(db.session, clan, period)
                saving = with_wallets.wallet_saving
                moved = sum(abs(line.netting) for line in with_wallets.lines) // 2
                both = _both_ways(with_wallets, owner)
                rows.append((period, saving, moved, both, _timed(clan, period, args.repeat)))
            db.session.execute(
                update(Character)
                .where(Character.clan_id == clan.id)
                .values(wallet_character_id=None)
            )
            for period, saving, moved, both, ms_wallets in rows:
                alone = build_preview(db.session, clan, period)
                count, fees = _self_payments(alone, owner)
                ways = f"{_both_ways(alone, owner)} -> {both}"
                ms_alone = _timed(clan, period, args.repeat)
                per_char = f"{saving.character_transfers} tr, {saving.character_fees:,} fees"
                print(
                    f"{period.starts_on:%Y-%m} {per_char:>28} {f'{count}, {fees:,} fees':>16} "
                    f"{f'{saving.wallet_transfers} tr, {saving.wallet_fees:,} fees':>20} "
                    f"{f'{saving.saved_fees:,} fees, {saving.saved_transfers} tr':>18} "
                    f"{moved:>9,} {ways:>9} {ms_wallets:>11.1f} {ms_alone:>8.1f}"
                )
            db.session.rollback()


if __name__ == "__main__":
    main()
