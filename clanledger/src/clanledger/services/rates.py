"""The clan's dated rates (exchange fee, clan-fund cut): the one place that looks them up.

A rate holds from its ``effective_from`` day until the next one of its kind starts
(:class:`~clanledger.domain.money.RateSchedule`). A clan with no rate of a kind at all has
0 % of it; a day before the first rate of a kind took effect has no rate in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from clanledger.domain.errors import NoRateInForce
from clanledger.domain.messages import N_
from clanledger.domain.money import ZERO_RATE, Rate, RateSchedule
from clanledger.models import ClanRate, RateKind
from clanledger.services.errors import NotFound, ValidationError

NO_RATE_ON_DAY = N_("No rate is in force on that day.")
NO_RATE = N_("No exchange fee or fund cut was in force on that day: check the clan settings.")


@dataclass(frozen=True)
class Rates:
    """The exchange fee and clan-fund cut in force on one day."""

    day: date
    fee: Rate
    fund_cut: Rate


def _schedules(session: Session, clan_id: int) -> dict[RateKind, RateSchedule]:
    rows = session.execute(
        select(ClanRate.kind, ClanRate.effective_from, ClanRate.bps).where(
            ClanRate.clan_id == clan_id
        )
    ).all()
    entries: dict[RateKind, list[tuple[date, Rate]]] = {}
    for kind, day, bps in rows:
        entries.setdefault(RateKind(kind), []).append((day, Rate(bps)))
    return {kind: RateSchedule.of(found) for kind, found in entries.items()}


def rate_in_force(session: Session, clan_id: int, kind: RateKind, day: date) -> Rate:
    """The rate of ``kind`` in force on ``day``: the latest one effective on or before it.

    Raises:
        NotFound: the clan has no rate of that kind in force on ``day``.
    """
    schedule = _schedules(session, clan_id).get(kind)
    try:
        if schedule is None:
            raise NoRateInForce(f"the clan has no {kind.value} rate")
        return schedule.rate_on(day)
    except NoRateInForce as exc:
        raise NotFound(NO_RATE_ON_DAY) from exc


def rates_on(session: Session, clan_id: int, day: date) -> Rates:
    """The clan's exchange fee and fund cut in force on ``day`` (clan timezone); a kind the
    clan never set is 0 %.

    Raises:
        ValidationError: a rate of a kind the clan has had not started yet on ``day``.
    """
    schedules = _schedules(session, clan_id)
    found: dict[RateKind, Rate] = {}
    for kind in (RateKind.EXCHANGE_FEE, RateKind.FUND_CUT):
        schedule = schedules.get(kind)
        try:
            found[kind] = schedule.rate_on(day) if schedule else ZERO_RATE
        except NoRateInForce as exc:
            raise ValidationError(NO_RATE, field="sold_at") from exc
    return Rates(day, found[RateKind.EXCHANGE_FEE], found[RateKind.FUND_CUT])
