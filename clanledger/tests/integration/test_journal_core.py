from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from clanledger.extensions import db
from clanledger.models import AuditLog, Character, Clan, EntryKind, Period, PeriodStatus, User
from clanledger.services.audit import set_actor
from clanledger.services.errors import Conflict, ValidationError
from clanledger.services.journal import PostingLine, member_balances, post_entry


@pytest.fixture
def clan_with_two(app):
    user = User(username="lead", display_name="Lead", password_hash="x")
    db.session.add(user)
    db.session.flush()
    set_actor(db.session, user.id)
    clan = Clan(name="星辰", server="肯特01", invite_code="abc")
    db.session.add(clan)
    db.session.flush()
    a = Character(clan_id=clan.id, user_id=user.id, name="阿明")
    b = Character(clan_id=clan.id, name="小華")
    db.session.add_all([a, b])
    db.session.commit()
    return user, clan, a, b


def test_entry_balances_and_lands_in_the_month_of_the_clan_timezone(clan_with_two):
    user, clan, a, b = clan_with_two
    # 2026-10-31 17:30 UTC is already 1 November in Taipei.
    entry = post_entry(
        db.session,
        clan,
        kind=EntryKind.SALE,
        lines=[
            PostingLine("member", a.id, -100),
            PostingLine("member", b.id, 95),
            PostingLine("fund", None, 5),
        ],
        occurred_at=datetime(2026, 10, 31, 17, 30, tzinfo=UTC),
        actor_id=user.id,
    )
    db.session.commit()
    balances = member_balances(db.session, clan.id, entry.period_id)
    assert balances == {("member", a.id): -100, ("member", b.id): 95, ("fund", None): 5}
    assert db.session.get(Period, entry.period_id).starts_on.isoformat() == "2026-11-01"


def test_unbalanced_entry_and_closed_period_are_refused(clan_with_two):
    user, clan, a, b = clan_with_two
    when = datetime(2026, 11, 5, tzinfo=UTC)
    with pytest.raises(ValidationError, match="sum to 1"):
        post_entry(
            db.session,
            clan,
            kind=EntryKind.ADJUSTMENT,
            lines=[PostingLine("member", a.id, 1)],
            occurred_at=when,
            actor_id=user.id,
        )
    entry = post_entry(
        db.session,
        clan,
        kind=EntryKind.ADJUSTMENT,
        lines=[PostingLine("member", a.id, 1), PostingLine("member", b.id, -1)],
        occurred_at=when,
        actor_id=user.id,
    )
    period = db.session.get(Period, entry.period_id)
    period.status = PeriodStatus.CLOSED
    db.session.commit()
    with pytest.raises(Conflict, match="closed"):
        post_entry(
            db.session,
            clan,
            kind=EntryKind.ADJUSTMENT,
            lines=[PostingLine("member", a.id, 2), PostingLine("member", b.id, -2)],
            occurred_at=when,
            actor_id=user.id,
        )


def test_changes_to_clan_rows_are_audited_with_before_and_after(clan_with_two):
    user, _clan, a, b = clan_with_two
    a.char_class = "騎士"
    db.session.commit()
    rows = (
        db.session.execute(
            select(AuditLog).where(AuditLog.entity_type == "Character").order_by(AuditLog.id)
        )
        .scalars()
        .all()
    )
    assert [r.action for r in rows] == ["create", "create", "update"]
    update = rows[-1]
    assert update.actor_id == user.id and update.entity_id == a.id
    assert update.before["char_class"] == "" and update.after["char_class"] == "騎士"
    db.session.delete(b)
    db.session.commit()
    deleted = db.session.execute(select(AuditLog).where(AuditLog.action == "delete")).scalar_one()
    assert deleted.before["name"] == "小華" and deleted.after is None
