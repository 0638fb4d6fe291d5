"""The month plan as a member sees it before the close: their own transfers, what their
wallets move, the month's saving and why each transfer is there, nothing about anyone
else's balance.

The plan is the close preview's (:func:`~clanledger.services.close_preview.build_preview`),
so what a member reads is exactly what an officer would confirm at that moment; balances
can still change until the close (a late sale), and the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from clanledger.domain.ledger import AccountKind
from clanledger.domain.savings import Savings
from clanledger.domain.wallets import WalletSaving
from clanledger.models import Character, Clan, JournalEntry, Period, PeriodStatus, Role
from clanledger.services import authz
from clanledger.services.close_preview import BalanceLine, PlanLine, build_preview


@dataclass(frozen=True)
class MyTransfer:
    """One transfer of the reader's characters, and why it is in the plan.

    Attributes:
        line: the transfer (payer buys the receiver's listing at ``gross``).
        i_pay: the reader's character buys (else it lists and receives).
        group_size: how many balances cancel out in the group it settles.
        group_transfers: how many transfers settle that group (``group_size - 1``).
    """

    line: PlanLine
    i_pay: bool
    group_size: int
    group_transfers: int


@dataclass(frozen=True)
class MemberPlan:
    """The month plan for one member: ``period`` is None when nothing is open to settle."""

    period: Period | None
    transfers: list[MyTransfer]
    balances: list[BalanceLine]  # the reader's characters only
    savings: Savings | None
    wallet_saving: WalletSaving | None
    officer: bool

    @property
    def total_to_pay(self) -> int:
        return sum(t.line.gross for t in self.transfers if t.i_pay)

    @property
    def total_to_receive(self) -> int:
        return sum(t.line.received for t in self.transfers if not t.i_pay)


def next_to_close(session: Session, clan_id: int) -> Period | None:
    """The month the next close settles: the earliest open month with entries."""
    return session.execute(
        select(Period)
        .where(
            Period.clan_id == clan_id,
            Period.status == PeriodStatus.OPEN,
            select(JournalEntry.id).where(JournalEntry.period_id == Period.id).exists(),
        )
        .order_by(Period.starts_on)
        .limit(1)
    ).scalar_one_or_none()


def member_plan(session: Session, actor_id: int, clan_id: int) -> MemberPlan:
    """The plan of the month the next close settles, as the reader may see it.

    Raises:
        NotFound: the reader is not an active member of the clan.
    """
    membership = authz.active_membership(session, actor_id, clan_id)
    officer = membership.role.rank >= Role.OFFICER.rank
    period = next_to_close(session, clan_id)
    if period is None:
        return MemberPlan(None, [], [], None, None, officer)
    clan = session.get(Clan, clan_id)
    preview = build_preview(session, clan, period)  # type: ignore[arg-type]
    mine = set(
        session.execute(
            select(Character.id).where(Character.clan_id == clan_id, Character.user_id == actor_id)
        ).scalars()
    )
    sizes = {why: len(lines) for why, lines in preview.groups}
    transfers = [
        MyTransfer(line, line.payer_id in mine, len(line.why), sizes[line.why])
        for line in preview.transfers
        if line.payer_id in mine or line.receiver_id in mine
    ]
    balances = [
        line
        for line in preview.lines
        if line.account.kind is AccountKind.MEMBER and line.account.id in mine
    ]
    return MemberPlan(period, transfers, balances, preview.savings, preview.wallet_saving, officer)
