"""The loot pages through the test client: forms post, errors show on the form, nothing is
posted twice, and every page renders for the roles that may see it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from clanledger.extensions import db
from clanledger.models import Drop, DropStatus, JournalEntry, Kill, Role, Sale
from clanledger.services import bosses, drops, kills


@pytest.fixture
def clan_setup(make_user, make_clan, add_member, make_character):
    officer, member = make_user("officer"), make_user("member")
    clan = make_clan(leader=officer)
    add_member(clan, member, Role.MEMBER)
    chars = [make_character(clan, officer, "Leader")]
    chars.append(make_character(clan, member, "Member"))
    chars += [make_character(clan, None, f"Roster{i}") for i in range(3)]
    boss = bosses.add_boss(db.session, officer.id, clan.id, "Antharas")
    return clan, officer, member, chars, boss


def _days_ago(days: int) -> str:
    """A ``datetime-local`` value ``days`` before now (kills and sales must fall within the
    clan's history: from a year before it was founded to a day ahead)."""
    return (datetime.now() - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def entries() -> int:
    return db.session.execute(select(func.count(JournalEntry.id))).scalar_one()


def test_record_a_kill_list_and_sell_through_the_pages(clan_setup, login, client):
    clan, officer, _, chars, boss = clan_setup
    login(officer)
    page = client.get(f"/clans/{clan.id}/kills/new")
    assert page.status_code == 200
    key = re.search(rb'name="request_key" type="hidden" value="([^"]+)"', page.data)
    assert key, "the kill form carries a request key"
    form = {
        "boss_id": boss.id,
        "killed_at": _days_ago(1),
        "participants": [c.id for c in chars],
        "caller": chars[0].id,
        "request_key": key.group(1).decode(),
        **{f"w-{c.id}": "1" for c in chars},
    }
    form[f"w-{chars[4].id}"] = "1/2"
    response = client.post(f"/clans/{clan.id}/kills/new", data=form)
    assert response.status_code == 302
    again = client.post(f"/clans/{clan.id}/kills/new", data=form)  # double submit
    assert again.status_code == 302 and again.location == response.location
    kill = db.session.execute(select(Kill)).scalar_one()
    assert len(kill.attendance) == 5
    assert {a.character_id: str(a.weight) for a in kill.attendance}[chars[4].id] == "1/2"
    page = client.get(response.location)
    assert kill.checkin_code.encode() in page.data
    again_form = client.get(f"/clans/{clan.id}/kills/new").data
    assert b"data-picker-last" in again_form and again_form.count(b"data-last-weight=") == 5

    response = client.post(
        f"/clans/{clan.id}/kills/{kill.id}/drops",
        data={"name": "Sword", "grade": "A", "holder_character_id": chars[1].id},
    )
    assert response.status_code == 302
    drop = db.session.execute(select(Drop)).scalar_one()
    bad = client.post(f"/clans/{clan.id}/drops/{drop.id}/list", data={"asking_price": "-5"})
    assert bad.status_code == 400 and b"is-invalid" in bad.data  # an invalid form is 400
    assert db.session.get(Drop, drop.id).status == DropStatus.HELD
    client.post(f"/clans/{clan.id}/drops/{drop.id}/list", data={"asking_price": "1000"})
    version = db.session.get(Drop, drop.id).version
    shown = client.get(f"/clans/{clan.id}/drops/{drop.id}").get_data(as_text=True)
    received = re.search(r'<input[^>]*name="received"[^>]*>', shown)
    assert received and 'value="950"' in received.group(0)  # prefilled at today's fee
    assert 'name="confirm_amount"' not in shown
    sale = {"gross_price": "1000", "received": "940", "version": str(version)}
    asked = client.post(f"/clans/{clan.id}/drops/{drop.id}/sell", data=sale)
    assert asked.status_code == 400 and entries() == 0  # a mistyped amount is questioned
    assert "不是 940" in asked.get_data(as_text=True) and b'name="confirm_amount"' in asked.data
    sale["confirm_amount"] = "y"
    assert client.post(f"/clans/{clan.id}/drops/{drop.id}/sell", data=sale).status_code == 302
    twice = client.post(f"/clans/{clan.id}/drops/{drop.id}/sell", data=sale)
    assert twice.status_code == 409
    assert entries() == 1
    shown = client.get(f"/clans/{clan.id}/drops/{drop.id}")
    assert b'id="mismatch"' in shown.data  # 940 typed, 950 expected at 5 %
    assert b'id="breakdown"' in shown.data and b"-940" in shown.data
    for url in ("/", "/drops?status=all", "/kills", "/statement", "/statements", "/bosses"):
        assert client.get(f"/clans/{clan.id}{url}").status_code == 200, url
    assert client.get(f"/clans/{clan.id}/statement/{chars[2].id}/explain").status_code == 200


def test_member_checks_in_reads_own_statement_only(clan_setup, login, client):
    clan, officer, member, chars, boss = clan_setup
    kill = kills.record_kill(
        db.session,
        officer.id,
        clan.id,
        boss_id=boss.id,
        killed_at=_now(),
        participants={chars[0].id: 1},
    )
    drop = drops.record_drop(
        db.session,
        officer.id,
        clan.id,
        kill_id=kill.id,
        name="Bow",
        holder_character_id=chars[0].id,
    )
    login(member)
    wrong = client.post(f"/clans/{clan.id}/checkin", data={"code": "XXXX"})
    assert wrong.status_code == 409 and b"invalid-feedback" in wrong.data  # refused: 409
    ok = client.post(f"/clans/{clan.id}/checkin", data={"code": kill.checkin_code.lower()})
    assert ok.status_code == 302
    assert client.post(f"/clans/{clan.id}/kills/new", data={}).status_code == 403
    assert client.get(f"/clans/{clan.id}/statement/{chars[0].id}").status_code == 403
    assert client.get(f"/clans/{clan.id}/statement/{chars[1].id}").status_code == 200
    assert (
        client.post(
            f"/clans/{clan.id}/drops/{drop.id}/list", data={"asking_price": "10"}
        ).status_code
        == 403
    )
    page = client.get(f"/clans/{clan.id}/")
    assert page.status_code == 200 and b'id="savings"' in page.data
    assert db.session.execute(select(func.count(Sale.id))).scalar_one() == 0


def _now():
    from clanledger.models.types import utcnow

    return utcnow()


def test_a_sale_on_an_earlier_day_uses_that_days_fee(clan_setup, login, client):
    from datetime import date

    from clanledger.models import ClanRate, RateKind

    clan, officer, _, chars, boss = clan_setup
    db.session.add(
        ClanRate(clan_id=clan.id, kind=RateKind.EXCHANGE_FEE, bps=800, effective_from=date.today())
    )
    db.session.commit()
    kill = kills.record_kill(
        db.session,
        officer.id,
        clan.id,
        boss_id=boss.id,
        killed_at=_now(),
        participants={chars[0].id: 1},
    )
    drop = drops.record_drop(
        db.session,
        officer.id,
        clan.id,
        kill_id=kill.id,
        name="Bow",
        holder_character_id=chars[0].id,
    )
    drops.list_drop(db.session, officer.id, clan.id, drop.id, 1000)
    login(officer)
    response = client.post(
        f"/clans/{clan.id}/drops/{drop.id}/sell",
        data={"gross_price": "1000", "received": "950", "sold_at": _days_ago(30)},
    )
    assert response.status_code == 302
    sale = db.session.execute(select(Sale)).scalar_one()
    assert (sale.fee_bps, sale.expected_received) == (500, 950)  # 5 % was in force 30 days ago


def test_statement_lines_link_to_transfers_and_period_openings(clan_setup, login, client):
    from clanledger.models import Clan, EntryKind
    from clanledger.services.journal import PostingLine, post_entry

    clan, officer, member, chars, _ = clan_setup
    mine, theirs = chars[1].id, chars[0].id
    for kind, source in ((EntryKind.TRANSFER, ("transfer", 7)), (EntryKind.OPENING, ("period", 1))):
        post_entry(
            db.session,
            db.session.get(Clan, clan.id),
            kind=kind,
            occurred_at=_now(),
            actor_id=officer.id,
            lines=[PostingLine("member", mine, 5), PostingLine("member", theirs, -5)],
            source=source,
            memo="settled",
        )
    db.session.commit()
    login(member)
    page = client.get(f"/clans/{clan.id}/statement").get_data(True)
    assert "#transfer-7" in page
    assert "/periods/1" not in page  # the close pages are for officers
    login(officer)
    page = client.get(f"/clans/{clan.id}/statement/{mine}").get_data(True)
    assert "#transfer-7" in page and f"/clans/{clan.id}/periods/1" in page


@pytest.mark.parametrize(
    ("participants", "weights", "message", "status"),
    [
        ("all", "0", b"weight 0", 409),  # every weight zero: the service refuses
        ("unknown", "1", b"invalid-feedback", 400),  # not in the roster: an invalid form
        ("all", "abc", b"1, 0.5, 1/2 or 1.25", 409),  # not a number: the service refuses
    ],
)
def test_bad_kill_forms_show_errors_and_record_nothing(
    participants, weights, message, status, clan_setup, login, client
):
    clan, officer, _, chars, boss = clan_setup
    officer.locale = "en"  # the messages below are the English msgids
    db.session.commit()
    login(officer)
    ids = [c.id for c in chars] if participants == "all" else [chars[0].id, 999_999]
    response = client.post(
        f"/clans/{clan.id}/kills/new",
        data={
            "boss_id": boss.id,
            "killed_at": _days_ago(1),
            "participants": ids,
            "caller": 0,
            **{f"w-{i}": weights for i in ids},
        },
    )
    assert response.status_code == status
    assert message in response.data
    assert db.session.execute(select(func.count(Kill.id))).scalar_one() == 0
