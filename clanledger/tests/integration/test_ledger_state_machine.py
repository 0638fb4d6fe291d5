"""A state machine over the whole month cycle: sell, correct, close, reopen, pay, partial
pay, confirm and change the fee rate, in any order, on three months. After every step:

* every journal entry sums to zero;
* no closed month's postings or displayed figures change while it stays closed;
* every diamond of a closed month is settled, planned or carried: for each account (the
  fund's on the treasurer's), what the close had to settle plus the effect of its transfers
  is what it carried;
* the stored saving equals the one definition worked out here from the transfers' nets,
  the carried balances and the exchange's fee rule.

Runs on SQLite in the default suite and on PostgreSQL with TEST_DATABASE_URL.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from clanledger.domain.fees import FeePolicy
from clanledger.extensions import db
from clanledger.models import (
    Clan,
    Period,
    PeriodStatus,
    Posting,
    Role,
    Sale,
    Transfer,
    TransferStatus,
)
from clanledger.services import bosses, clans, close, kills, sales, transfers
from clanledger.services.drops import list_drop, record_drop
from clanledger.services.errors import Conflict, PermissionDenied, ValidationError
from clanledger.services.periods import period_for_day

MONTHS = [1, 2, 3]
REFUSED = (Conflict, ValidationError, PermissionDenied)


def fee_of(net: int, bps: int, policy: str) -> int:
    """The exchange's fee of settling ``net`` (ceil(price x rate); the payer grosses up)."""

    def cut(price: int) -> int:
        return -(-price * bps // 10_000)

    if policy == FeePolicy.RECEIVER.value:
        return cut(net)
    gross = net
    while gross - cut(gross) < net:
        gross += 1
    return cut(gross)


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 4, tzinfo=UTC)  # noon in Taipei


def test_the_month_cycle_keeps_every_invariant(
    app, make_user, make_clan, add_member, make_character
):
    class MonthCycle(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.leader, self.officer = make_user(), make_user()
            self.players = [make_user(), make_user()]
            clan = make_clan(leader=self.leader)
            clan.carry_threshold = 60
            add_member(clan, self.officer, Role.OFFICER)
            for player in self.players:
                add_member(clan, player)
            chars = [make_character(clan, self.leader)]
            chars += [make_character(clan, p) for p in self.players]
            self.chars = [c.id for c in chars]
            self.owner = dict(
                zip(self.chars, [self.leader.id, *(p.id for p in self.players)], strict=True)
            )
            self.clan_id = clan.id
            self.boss = bosses.add_boss(db.session, self.officer.id, clan.id, "巴風特").id
            self.periods = [period_for_day(db.session, clan, date(2026, m, 1)).id for m in MONTHS]
            db.session.commit()
            self.frozen: dict[int, tuple] = {}

        def attempt(self, action) -> None:
            try:
                action()
            except REFUSED:
                db.session.rollback()

        @initialize()
        def some_sales(self):
            """Each month starts with sales held by different characters, so closes plan
            transfers to pay and confirm."""
            for month in MONTHS:
                for holder, received in ((1, 1_200 + 100 * month), (2, 700), (0, 450)):
                    self._sell(month, 5 + holder, holder, received)

        @rule(
            month=st.sampled_from(MONTHS),
            day=st.integers(1, 28),
            holder=st.integers(0, 2),
            received=st.integers(100, 3_000),
        )
        def sell(self, month, day, holder, received):
            self._sell(month, day, holder, received)

        def _sell(self, month, day, holder, received):
            def act():
                when = at(month, day)
                kill = kills.record_kill(
                    db.session,
                    self.officer.id,
                    self.clan_id,
                    boss_id=self.boss,
                    killed_at=when,
                    participants={c: "1" for c in self.chars},
                    now=when,
                )
                drop = record_drop(
                    db.session,
                    self.officer.id,
                    self.clan_id,
                    kill_id=kill.id,
                    name="劍",
                    holder_character_id=self.chars[holder],
                    now=when,
                ).id
                list_drop(
                    db.session, self.officer.id, self.clan_id, drop, asking_price=received, now=when
                )
                sales.record_sale(
                    db.session,
                    self.officer.id,
                    self.clan_id,
                    drop,
                    received=received,
                    sold_at=when,
                    now=when,
                )

            self.attempt(act)

        @rule(pick=st.integers(0, 50), received=st.integers(50, 3_000))
        def correct(self, pick, received):
            sold = db.session.execute(select(Sale).order_by(Sale.id)).scalars().all()
            mine = [s for s in sold if s.clan_id == self.clan_id]
            if not mine:
                return
            sale = mine[pick % len(mine)]
            drop_id, when = sale.drop_id, sale.sold_at
            self.attempt(
                lambda: sales.correct_sale(
                    db.session,
                    self.officer.id,
                    self.clan_id,
                    drop_id,
                    received=min(received, sale.gross_price),
                    reason="typo",
                    now=when,
                )
            )

        @rule(index=st.integers(0, 2))
        def close_month(self, index):
            pid = self.periods[index]
            self.attempt(
                lambda: close.confirm_close(db.session, self.officer.id, self.clan_id, pid)
            )

        @rule(index=st.integers(0, 2))
        def reopen(self, index):
            pid = self.periods[index]
            self.attempt(
                lambda: close.reopen_period(db.session, self.leader.id, self.clan_id, pid, "fix")
            )

        def _transfer(self, pick, statuses):
            rows = (
                db.session.execute(
                    select(Transfer)
                    .where(Transfer.clan_id == self.clan_id, Transfer.status.in_(statuses))
                    .order_by(Transfer.id)
                )
                .scalars()
                .all()
            )
            return rows[pick % len(rows)] if rows else None

        @rule(pick=st.integers(0, 20), short=st.integers(0, 30))
        def pay(self, pick, short):
            t = self._transfer(pick, [TransferStatus.PLANNED])
            if t is None:
                return
            payer, tid, gross = self.owner[t.payer_character_id], t.id, t.gross
            paid = max(1, gross - short)  # short > 0: a partial payment
            self.attempt(
                lambda: transfers.mark_paid(db.session, payer, self.clan_id, tid, paid_gross=paid)
            )

        @rule(pick=st.integers(0, 20))
        def confirm(self, pick):
            t = self._transfer(pick, [TransferStatus.PLANNED, TransferStatus.PAID])
            if t is None:
                return
            receiver, tid = self.owner[t.receiver_character_id], t.id
            self.attempt(
                lambda: transfers.confirm_received(db.session, receiver, self.clan_id, tid)
            )

        @rule(
            month=st.sampled_from([1, 2, 3, 4]),
            day=st.integers(1, 28),
            bps=st.sampled_from([300, 500, 700]),
        )
        def change_rate(self, month, day, bps):
            clan = db.session.get(Clan, self.clan_id)
            new = replace(clans.current_settings(db.session, clan), fee_bps=bps)
            self.attempt(
                lambda: clans.update_settings(
                    db.session, self.leader.id, self.clan_id, new, date(2026, month, day)
                )
            )

        @invariant()
        def entries_balance(self):
            unbalanced = db.session.execute(
                select(Posting.entry_id)
                .where(Posting.clan_id == self.clan_id)
                .group_by(Posting.entry_id)
                .having(func.sum(Posting.amount) != 0)
            ).all()
            assert unbalanced == []

        @invariant()
        def closed_months_are_frozen(self):
            for pid in self.periods:
                period = db.session.get(Period, pid)
                db.session.refresh(period)
                if period.status != PeriodStatus.CLOSED:
                    self.frozen.pop(pid, None)
                    continue
                now = self._snapshot(period)
                key = (pid, period.close_count)
                if key in self.frozen:
                    assert self.frozen[key] == now
                else:
                    self.frozen = {k: v for k, v in self.frozen.items() if k[0] != pid}
                    self.frozen[key] = now
                self._settled_planned_or_carried(period)
                self._saving_by_definition(period)

        def _snapshot(self, period):
            postings = db.session.execute(
                select(Posting.entry_id, Posting.account_kind, Posting.character_id, Posting.amount)
                .where(Posting.period_id == period.id)
                .order_by(Posting.id)
            ).all()
            shown = close.preview_close(db.session, self.officer.id, self.clan_id, period.id)
            return (
                postings,
                shown.rate,
                shown.savings,
                [(b.account, b.balance, b.committed, b.carried) for b in shown.lines],
                [(t.payer_id, t.receiver_id, t.net, t.gross, t.fee) for t in shown.transfers],
            )

        def _round(self, period):
            return (
                db.session.execute(select(Transfer).where(Transfer.period_id == period.id))
                .scalars()
                .all()
            )

        def _settled_planned_or_carried(self, period):
            figures = period.close_figures
            treasurer = figures["treasurer_id"]
            left: dict[tuple, int] = defaultdict(int)
            carried: dict[tuple, int] = defaultdict(int)
            for kind, cid, balance, committed, carry in figures["lines"]:
                key = ("member", treasurer) if kind == "fund" and treasurer else (kind, cid)
                left[key] += balance + committed
                carried[key] += carry
            for t in self._round(period):
                if t.close_round == period.close_count:
                    left[("member", t.payer_character_id)] += t.net
                    left[("member", t.receiver_character_id)] -= t.net
            assert {k: v for k, v in left.items() if v} == {k: v for k, v in carried.items() if v}

        def _saving_by_definition(self, period):
            figures = period.close_figures
            s = figures["savings"]
            bps, policy = figures["fee_bps"], figures["policy"]
            rows = self._round(period)
            plan = sum(
                fee_of(t.net, bps, policy) for t in rows if t.close_round == period.close_count
            )
            paid = 0
            for t in rows:
                if t.close_round < period.close_count:
                    price = t.paid_gross if t.paid_gross is not None else t.gross
                    paid += -(-price * t.fee_bps // 10_000)
            out = sum(
                fee_of(c, bps, policy)
                for k, _i, _b, _c, c in figures["lines"]
                if c > 0 and k == "member"
            )
            assert (s["plan_fees"], s["paid_fees"], s["carried_out_fees"]) == (plan, paid, out)
            assert s["saved"] == (s["per_sale_fees"] + s["carried_in_fees"]) - (plan + paid + out)

    run_state_machine_as_test(
        MonthCycle,
        settings=settings(
            max_examples=20,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
