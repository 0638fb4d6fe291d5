"""Bad input gets an error and posts nothing; idempotency; permissions; corrections."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from sqlalchemy import func, select

from clanledger.extensions import db
from clanledger.models import Attendance, Drop, DropStatus, JournalEntry, Kill, Posting, Role, Sale
from clanledger.services import bosses, drops, kills, sales
from clanledger.services.errors import Conflict, NotFound, PermissionDenied, ValidationError

NOW = datetime(2026, 11, 10, 12, tzinfo=UTC)


@pytest.fixture
def raid(make_user, make_clan, add_member, make_character):
    """A clan with an officer, two members (one holding a listed item) and a kill."""
    officer, holder, other = make_user(), make_user(), make_user()
    clan = make_clan(leader=officer)
    add_member(clan, holder)
    add_member(clan, other)
    a = make_character(clan, officer, "Alpha")
    h = make_character(clan, holder, "Holder")
    o = make_character(clan, other, "Other")
    boss = bosses.add_boss(db.session, officer.id, clan.id, "Orfen")
    kill = kills.record_kill(
        db.session,
        officer.id,
        clan.id,
        boss_id=boss.id,
        killed_at=NOW,
        now=NOW,
        participants={a.id: 1, h.id: 1, o.id: "1/2"},
    )
    drop = drops.record_drop(
        db.session, officer.id, clan.id, kill_id=kill.id, name="Ring", holder_character_id=h.id
    )
    drops.list_drop(db.session, holder.id, clan.id, drop.id, 1000, now=NOW)
    return {
        "clan": clan,
        "officer": officer,
        "holder": holder,
        "other": other,
        "chars": (a, h, o),
        "boss": boss,
        "kill": kill,
        "drop": drop,
    }


def postings_count() -> int:
    return db.session.execute(select(func.count(Posting.id))).scalar_one()


def test_negative_or_zero_prices_are_refused(raid):
    r = raid
    with pytest.raises(ValidationError, match=r"(?i)above 0") as err:
        drops.list_drop(db.session, r["holder"].id, r["clan"].id, r["drop"].id, -5)
    assert err.value.field == "asking_price"
    with pytest.raises(ValidationError, match=r"(?i)0 or more") as err:
        sales.record_sale(db.session, r["holder"].id, r["clan"].id, r["drop"].id, received=-1)
    assert err.value.field == "received"
    with pytest.raises(ValidationError, match=r"(?i)more than the sale price"):
        sales.record_sale(db.session, r["holder"].id, r["clan"].id, r["drop"].id, received=1001)
    with pytest.raises(ValidationError, match=r"(?i)above 0"):
        sales.record_internal_purchase(
            db.session,
            r["officer"].id,
            r["clan"].id,
            r["drop"].id,
            buyer_character_id=r["chars"][2].id,
            price=-10,
        )
    assert postings_count() == 0
    assert db.session.get(Drop, r["drop"].id).status == DropStatus.LISTED


def test_only_the_holder_or_an_officer_records_a_sale(raid):
    r = raid
    with pytest.raises(PermissionDenied, match=r"(?i)holder"):
        sales.record_sale(db.session, r["other"].id, r["clan"].id, r["drop"].id, received=950)
    assert postings_count() == 0
    sale = sales.record_sale(
        db.session, r["officer"].id, r["clan"].id, r["drop"].id, received=950, now=NOW
    )
    assert sale.created_by_id == r["officer"].id and postings_count() > 0


def test_a_stranger_sees_nothing(raid, make_user, make_clan):
    stranger = make_user()
    make_clan(leader=stranger)
    with pytest.raises(NotFound):
        sales.record_sale(db.session, stranger.id, raid["clan"].id, raid["drop"].id, received=1)
    with pytest.raises(NotFound):
        kills.get_kill(db.session, stranger.id, raid["clan"].id, raid["kill"].id)


def test_zero_weight_for_everyone_and_unknown_characters_are_refused(
    raid, make_clan, make_character
):
    r = raid
    a, h, _ = r["chars"]
    kills_before = db.session.execute(select(func.count(Kill.id))).scalar_one()
    with pytest.raises(ValidationError, match=r"(?i)weight 0") as err:
        kills.record_kill(
            db.session,
            r["officer"].id,
            r["clan"].id,
            boss_id=r["boss"].id,
            killed_at=NOW,
            now=NOW,
            participants={a.id: "0", h.id: "0"},
        )
    assert err.value.field == "participants"
    foreign = make_character(make_clan(), None, "Foreigner")
    for bad in (999_999, foreign.id):
        with pytest.raises(ValidationError, match=r"(?i)unknown character"):
            kills.record_kill(
                db.session,
                r["officer"].id,
                r["clan"].id,
                boss_id=r["boss"].id,
                killed_at=NOW,
                now=NOW,
                participants={a.id: 1, bad: 1},
            )
        with pytest.raises(ValidationError, match=r"(?i)unknown character"):
            drops.record_drop(
                db.session,
                r["officer"].id,
                r["clan"].id,
                kill_id=r["kill"].id,
                name="X",
                holder_character_id=bad,
            )
        with pytest.raises(ValidationError, match=r"(?i)unknown character"):
            sales.record_internal_purchase(
                db.session,
                r["officer"].id,
                r["clan"].id,
                r["drop"].id,
                buyer_character_id=bad,
                price=10,
            )
    for weight in ("-1", "abc", "1/0", "11"):
        with pytest.raises(ValidationError):
            kills.record_kill(
                db.session,
                r["officer"].id,
                r["clan"].id,
                boss_id=r["boss"].id,
                killed_at=NOW,
                now=NOW,
                participants={a.id: weight},
            )
    assert db.session.execute(select(func.count(Kill.id))).scalar_one() == kills_before
    assert postings_count() == 0


def test_a_sold_item_cannot_be_sold_again(raid):
    r = raid
    sales.record_sale(db.session, r["holder"].id, r["clan"].id, r["drop"].id, received=950, now=NOW)
    before = postings_count()
    with pytest.raises(Conflict, match=r"(?i)already been sold"):
        sales.record_sale(
            db.session, r["holder"].id, r["clan"].id, r["drop"].id, received=950, now=NOW
        )
    with pytest.raises(Conflict):
        sales.record_internal_purchase(
            db.session,
            r["officer"].id,
            r["clan"].id,
            r["drop"].id,
            buyer_character_id=r["chars"][0].id,
            price=10,
        )
    with pytest.raises(Conflict):
        drops.list_drop(db.session, r["holder"].id, r["clan"].id, r["drop"].id, 10)
    assert postings_count() == before
    assert db.session.execute(select(func.count(Sale.id))).scalar_one() == 1


def test_a_stale_form_is_a_conflict(raid):
    r = raid
    version = db.session.get(Drop, r["drop"].id).version
    drops.mark_unsold(db.session, r["holder"].id, r["clan"].id, r["drop"].id)
    with pytest.raises(Conflict, match=r"(?i)changed since"):
        drops.list_drop(
            db.session, r["holder"].id, r["clan"].id, r["drop"].id, 900, expected_version=version
        )


def test_double_submitted_kill_and_drop_forms_record_once(raid):
    r = raid
    a = r["chars"][0]
    args = dict(boss_id=r["boss"].id, killed_at=NOW, now=NOW, participants={a.id: 1})
    first = kills.record_kill(db.session, r["officer"].id, r["clan"].id, request_key="k1", **args)
    again = kills.record_kill(db.session, r["officer"].id, r["clan"].id, request_key="k1", **args)
    assert first.id == again.id
    d = dict(kill_id=first.id, name="Bow", holder_character_id=a.id, request_key="d1")
    assert (
        drops.record_drop(db.session, r["officer"].id, r["clan"].id, **d).id
        == drops.record_drop(db.session, r["officer"].id, r["clan"].id, **d).id
    )


def test_void_reverses_with_a_reason_and_the_item_can_sell_again(raid):
    r = raid
    c, o = r["clan"].id, r["officer"].id
    sales.record_sale(db.session, o, c, r["drop"].id, received=950, now=NOW)
    with pytest.raises(ValidationError, match=r"(?i)reason"):
        sales.void_sale(db.session, o, c, r["drop"].id, reason="  ")
    sales.void_sale(db.session, o, c, r["drop"].id, reason="wrong item", now=NOW)
    assert db.session.execute(select(func.sum(Posting.amount))).scalar_one() == 0
    reversal = db.session.execute(
        select(JournalEntry).where(JournalEntry.reverses_id.is_not(None))
    ).scalar_one()
    assert reversal.reason == "wrong item"
    balances = db.session.execute(
        select(Posting.character_id, func.sum(Posting.amount)).group_by(Posting.character_id)
    ).all()
    assert all(total == 0 for _, total in balances)
    sales.record_sale(db.session, o, c, r["drop"].id, received=900, now=NOW)
    assert db.session.execute(select(func.count(JournalEntry.id))).scalar_one() == 3


def test_roll_call_locks_and_check_in_rules(raid):
    r = raid
    kill, (a, h, _) = r["kill"], r["chars"]
    with pytest.raises(ValidationError, match=r"(?i)no kill is open"):
        kills.check_in(db.session, r["other"].id, r["clan"].id, "ZZZZ", now=NOW)
    with pytest.raises(Conflict, match=r"(?i)already on"):
        kills.check_in(db.session, r["other"].id, r["clan"].id, kill.checkin_code, now=NOW)
    with pytest.raises(PermissionDenied):
        kills.set_roll_call(db.session, r["holder"].id, r["clan"].id, kill.id, {h.id: 1})
    later = NOW + timedelta(hours=3)
    assert kills.is_locked(kill, later)
    with pytest.raises(ValidationError, match=r"(?i)locked"):
        kills.set_roll_call(
            db.session, r["officer"].id, r["clan"].id, kill.id, {a.id: 1}, now=later
        )
    kills.set_roll_call(
        db.session,
        r["officer"].id,
        r["clan"].id,
        kill.id,
        {a.id: 1, h.id: "1/2"},
        reason="Other left early",
        now=later,
    )
    rows = db.session.execute(select(Attendance).where(Attendance.kill_id == kill.id)).scalars()
    assert {row.character_id: row.weight for row in rows} == {a.id: 1, h.id: 0.5}


def test_concurrent_double_submit_posts_once(raid, app):
    holder, clan, drop = raid["holder"].id, raid["clan"].id, raid["drop"].id
    db.session.remove()  # each thread works in its own session
    results: list[str] = []
    barrier = threading.Barrier(2)

    def submit() -> None:
        with app.app_context():
            barrier.wait()
            try:
                sales.record_sale(db.session, holder, clan, drop, received=950, now=NOW)
                results.append("ok")
            except Conflict:
                results.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "ok"]
    assert db.session.execute(select(func.count(JournalEntry.id))).scalar_one() == 1


def test_members_cannot_record_kills_or_edit_bosses(raid):
    r = raid
    with pytest.raises(PermissionDenied):
        bosses.add_boss(db.session, r["holder"].id, r["clan"].id, "Zaken")
    with pytest.raises(PermissionDenied):
        kills.record_kill(
            db.session,
            r["holder"].id,
            r["clan"].id,
            boss_id=r["boss"].id,
            killed_at=NOW,
            now=NOW,
            participants={},
        )
    with pytest.raises(Conflict, match=r"(?i)already on the list"):
        bosses.add_boss(db.session, r["officer"].id, r["clan"].id, "Orfen")
    assert Role.MEMBER.rank < Role.OFFICER.rank


def test_roster_puts_regulars_first_and_remembers_the_last_party(raid, make_character):
    r = raid
    a, h, o = r["chars"]
    newcomer = make_character(r["clan"], None, "Aaron")  # first by name, never at a kill
    names = [c.name for c in kills.roster(db.session, r["officer"].id, r["clan"].id)]
    assert names[0] == "Aaron"
    regulars = kills.roster(db.session, r["officer"].id, r["clan"].id, regulars_first=True)
    assert newcomer.id == regulars[-1].id
    last = kills.last_roll_call(db.session, r["officer"].id, r["clan"].id)
    assert last == {a.id: 1, h.id: 1, o.id: Fraction(1, 2)}
