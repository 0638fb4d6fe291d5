"""Clans: creation, settings with dated rates, invitations, join requests and roles.

Roles: the leader (盟主) runs the clan and its settings, hands leadership over and promotes
or demotes; officers (幹部) approve join requests and manage the roster; members (盟員)
take part. Removing a member marks the membership ``removed``: their history stays.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clanledger.domain.collation import sort_key
from clanledger.domain.errors import InvalidRate
from clanledger.domain.fees import FeePolicy, require_exchange_fee, require_fund_cut
from clanledger.domain.messages import N_
from clanledger.domain.names import INVALID_NAME, InvalidName, clean_name
from clanledger.models import (
    Clan,
    ClanRate,
    Membership,
    MembershipStatus,
    Period,
    PeriodStatus,
    RateKind,
    Role,
)
from clanledger.models.types import utcnow
from clanledger.services import audit, authz, rates
from clanledger.services.errors import NotFound, ValidationError

FEE_RANGE = N_("The exchange fee must be between 0 % and 50 %.")
FUND_CUT_RANGE = N_("The fund cut must be at least 0 % and below 100 %.")
FEE_POLICIES = tuple(FeePolicy)
SETTLEMENT_PERIODS = ("monthly",)
# Unambiguous characters for codes typed from a phone screen (no 0/O, 1/I/L).
INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
INVITE_LENGTH = 8


@dataclass(frozen=True)
class ClanSettings:
    """Everything a leader sets on a clan. Rates are basis points (500 = 5 %)."""

    name: str
    server: str
    fee_bps: int = 500
    fund_cut_bps: int = 1000
    fee_policy: str = "payer"
    settlement_period: str = "monthly"
    timezone: str = "Asia/Taipei"
    carry_threshold: int = 0
    caller_bonus: str = "0"
    checkin_window_minutes: int = 30
    rollcall_lock_minutes: int = 120


@dataclass(frozen=True)
class ClanOverview:
    membership: Membership
    clan: Clan
    member_count: int


def new_invite_code() -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))


def normalise_invite_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def validate_settings(settings: ClanSettings) -> None:
    """Raise :class:`ValidationError` naming the first bad field."""
    if not settings.name.strip():
        raise ValidationError(N_("Give the clan a name."), "name")
    try:
        clean_name(settings.name)
    except InvalidName as exc:
        raise ValidationError(INVALID_NAME, "name") from exc
    if not settings.server.strip():
        raise ValidationError(N_("Name the game server."), "server")
    try:
        require_exchange_fee(settings.fee_bps)
    except InvalidRate as exc:
        raise ValidationError(FEE_RANGE, "fee_bps") from exc
    try:
        require_fund_cut(settings.fund_cut_bps)
    except InvalidRate as exc:
        raise ValidationError(FUND_CUT_RANGE, "fund_cut_bps") from exc
    if settings.fee_policy not in FEE_POLICIES:
        raise ValidationError(N_("Choose who bears the exchange fee."), "fee_policy")
    if settings.settlement_period not in SETTLEMENT_PERIODS:
        raise ValidationError(N_("Choose a settlement period."), "settlement_period")
    if settings.timezone not in available_timezones():
        raise ValidationError(N_("Unknown timezone; use a name like Asia/Taipei."), "timezone")
    if settings.carry_threshold < 0:
        raise ValidationError(N_("The carry threshold cannot be negative."), "carry_threshold")
    try:
        bonus = Fraction(settings.caller_bonus)
    except (ValueError, ZeroDivisionError) as exc:
        raise ValidationError(
            N_("Write the caller bonus as a number of shares, e.g. 0, 0.5 or 1."), "caller_bonus"
        ) from exc
    if not 0 <= bonus <= 10:
        raise ValidationError(
            N_("The caller bonus must be between 0 and 10 shares."), "caller_bonus"
        )
    for field, value in (
        ("checkin_window_minutes", settings.checkin_window_minutes),
        ("rollcall_lock_minutes", settings.rollcall_lock_minutes),
    ):
        if not 1 <= value <= 7 * 24 * 60:
            raise ValidationError(N_("Use between 1 minute and 7 days."), field)
    if settings.rollcall_lock_minutes < settings.checkin_window_minutes:
        raise ValidationError(
            N_("The roll call cannot lock before the check-in window ends."),
            "rollcall_lock_minutes",
        )


def find_clan(session: Session, clan_id: int) -> Clan | None:
    """The clan with id ``clan_id``, if any (for commands run by the operator)."""
    return session.get(Clan, clan_id)


def clan_today(clan: Clan) -> date:
    """Today's date in the clan's timezone (rates take effect from a local day)."""
    return utcnow().astimezone(ZoneInfo(clan.timezone)).date()


def create_clan(session: Session, actor_id: int, settings: ClanSettings) -> Clan:
    """Create a clan led by ``actor_id`` with its first fee and fund-cut rates.

    Raises:
        ValidationError: a setting is out of range.
    """
    validate_settings(settings)
    audit.set_actor(session, actor_id)
    clan = Clan(invite_code=new_invite_code())
    _apply(clan, settings)
    session.add(clan)
    session.flush()
    today = clan_today(clan)
    session.add_all(
        [
            Membership(
                clan_id=clan.id, user_id=actor_id, role=Role.LEADER, status=MembershipStatus.ACTIVE
            ),
            ClanRate(
                clan_id=clan.id,
                kind=RateKind.EXCHANGE_FEE,
                bps=settings.fee_bps,
                effective_from=today,
            ),
            ClanRate(
                clan_id=clan.id,
                kind=RateKind.FUND_CUT,
                bps=settings.fund_cut_bps,
                effective_from=today,
            ),
        ]
    )
    session.commit()
    return clan


def _apply(clan: Clan, settings: ClanSettings) -> None:
    clan.name = clean_name(settings.name)
    clan.server = settings.server.strip()
    clan.fee_policy = settings.fee_policy
    clan.settlement_period = settings.settlement_period
    clan.timezone = settings.timezone
    clan.carry_threshold = settings.carry_threshold
    clan.caller_bonus = str(Fraction(settings.caller_bonus))
    clan.checkin_window_minutes = settings.checkin_window_minutes
    clan.rollcall_lock_minutes = settings.rollcall_lock_minutes


def current_settings(session: Session, clan: Clan) -> ClanSettings:
    """The clan's settings with the rates in force today (to prefill the form)."""
    today = clan_today(clan)
    return ClanSettings(
        name=clan.name,
        server=clan.server,
        fee_bps=_rate_or(session, clan.id, RateKind.EXCHANGE_FEE, today, 0),
        fund_cut_bps=_rate_or(session, clan.id, RateKind.FUND_CUT, today, 0),
        fee_policy=clan.fee_policy,
        settlement_period=clan.settlement_period,
        timezone=clan.timezone,
        carry_threshold=clan.carry_threshold,
        caller_bonus=clan.caller_bonus,
        checkin_window_minutes=clan.checkin_window_minutes,
        rollcall_lock_minutes=clan.rollcall_lock_minutes,
    )


def _rate_or(session: Session, clan_id: int, kind: RateKind, day: date, default: int) -> int:
    try:
        return rates.rate_in_force(session, clan_id, kind, day).bps
    except NotFound:
        return default


def update_settings(
    session: Session,
    actor_id: int,
    clan_id: int,
    settings: ClanSettings,
    effective_from: date | None = None,
) -> list[ClanRate]:
    """Change the clan's settings (leader only). A changed rate adds a dated
    :class:`ClanRate` from ``effective_from`` (today in the clan timezone by default); the
    old rates stay, so past sales keep the rate they were made at. Changing a rate twice on
    the same day replaces that day's row (the audit log keeps both values).

    Returns the rate rows added or changed.
    """
    authz.require_role(session, actor_id, clan_id, Role.LEADER)
    validate_settings(settings)
    audit.set_actor(session, actor_id)
    clan = session.get(Clan, clan_id, with_for_update=True)
    assert clan is not None
    _apply(clan, settings)
    day = effective_from or clan_today(clan)
    changed = []
    rates_change = any(
        _rate_or(session, clan_id, kind, day, -1) != bps
        for kind, bps in (
            (RateKind.EXCHANGE_FEE, settings.fee_bps),
            (RateKind.FUND_CUT, settings.fund_cut_bps),
        )
    )
    if rates_change:
        _require_open_month(session, clan_id, day)
    for kind, bps in (
        (RateKind.EXCHANGE_FEE, settings.fee_bps),
        (RateKind.FUND_CUT, settings.fund_cut_bps),
    ):
        if _rate_or(session, clan_id, kind, day, -1) == bps:
            continue
        row = session.execute(
            select(ClanRate).where(
                ClanRate.clan_id == clan_id, ClanRate.kind == kind, ClanRate.effective_from == day
            )
        ).scalar_one_or_none()
        if row is None:
            row = ClanRate(clan_id=clan_id, kind=kind, effective_from=day, bps=bps)
            session.add(row)
        else:
            row.bps = bps
        changed.append(row)
    session.commit()
    return changed


RATE_IN_CLOSED_MONTH = N_(
    "%(month)s is closed: a rate cannot start inside it, or its figures would change. "
    "Choose a day after %(day)s."
)


def _require_open_month(session: Session, clan_id: int, day: date) -> None:
    """A rate may not start inside a closed month: the month's stored figures used the
    rate in force when it closed.

    Raises:
        ValidationError: ``day`` falls in a closed month (field ``effective_from``).
    """
    closed = session.execute(
        select(Period).where(
            Period.clan_id == clan_id,
            Period.status == PeriodStatus.CLOSED,
            Period.starts_on <= day,
            Period.ends_on >= day,
        )
    ).scalar_one_or_none()
    if closed is not None:
        params = {"month": closed.starts_on, "day": closed.ends_on}
        raise ValidationError(RATE_IN_CLOSED_MONTH, "effective_from", params)


def rate_history(session: Session, actor_id: int, clan_id: int) -> list[ClanRate]:
    """Every rate the clan has had, newest first (members may read it)."""
    authz.active_membership(session, actor_id, clan_id)
    return list(
        session.execute(
            select(ClanRate)
            .where(ClanRate.clan_id == clan_id)
            .order_by(ClanRate.effective_from.desc(), ClanRate.kind)
        ).scalars()
    )


def my_clans(session: Session, user_id: int) -> list[ClanOverview]:
    """The user's active and pending memberships with member counts."""
    counts = (
        select(Membership.clan_id, func.count().label("n"))
        .where(Membership.status == MembershipStatus.ACTIVE)
        .group_by(Membership.clan_id)
        .subquery()
    )
    rows = session.execute(
        select(Membership, Clan, counts.c.n)
        .join(Clan, Clan.id == Membership.clan_id)
        .outerjoin(counts, counts.c.clan_id == Clan.id)
        .where(
            Membership.user_id == user_id,
            Membership.status.in_((MembershipStatus.ACTIVE, MembershipStatus.PENDING)),
        )
    ).all()
    rows.sort(key=lambda row: (row[0].status, sort_key(row[1].name)))
    return [ClanOverview(m, c, n or 0) for m, c, n in rows]
