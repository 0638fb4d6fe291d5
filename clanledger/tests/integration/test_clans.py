"""Clans: creation, settings with dated rates, invitations, join requests, roles, removal
and the audit trail of all of it."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from clanledger.extensions import db
from clanledger.models import AuditLog, Character, Clan, ClanRate, Membership, RateKind, Role
from clanledger.services import clans, history, memberships, rates
from clanledger.services.clans import ClanSettings
from clanledger.services.errors import Conflict, NotFound, PermissionDenied, ValidationError

FORM = {
    "name": "星辰",
    "server": "肯特01",
    "fee_percent": "5",
    "fund_percent": "10",
    "fee_policy": "payer",
    "settlement_period": "monthly",
    "timezone": "Asia/Taipei",
    "carry_threshold": "200",
    "caller_bonus": "0.5",
    "checkin_window_minutes": "30",
    "rollcall_lock_minutes": "120",
}


def _rates(clan_id: int) -> list[tuple[str, int, date]]:
    rows = db.session.execute(
        select(ClanRate)
        .where(ClanRate.clan_id == clan_id)
        .order_by(ClanRate.kind, ClanRate.effective_from)
    ).scalars()
    return [(r.kind.value, r.bps, r.effective_from) for r in rows]


def test_create_clan_through_the_form(client, make_user, login):
    user = make_user()
    login(user)
    response = client.post("/clans/new", data=FORM)
    assert response.status_code == 302
    clan = db.session.execute(select(Clan)).scalar_one()
    assert response.headers["Location"] == f"/clans/{clan.id}/invite"
    assert (clan.name, clan.server, clan.timezone) == ("星辰", "肯特01", "Asia/Taipei")
    assert (clan.carry_threshold, clan.caller_bonus, clan.fee_policy) == (200, "1/2", "payer")
    membership = db.session.execute(select(Membership)).scalar_one()
    assert (membership.user_id, membership.role, membership.status) == (
        user.id,
        Role.LEADER,
        "active",
    )
    today = clans.clan_today(clan)
    assert _rates(clan.id) == [("exchange_fee", 500, today), ("fund_cut", 1000, today)]
    assert len(clan.invite_code) == 8


def test_create_clan_errors_are_shown_under_the_field(client, make_user, login):
    """An invalid form is shown again with 400, as every form page does (web/forms.py)."""
    login(make_user())
    response = client.post("/clans/new", data={**FORM, "fee_percent": "70"})
    html = response.get_data(as_text=True)
    feedback = html.split('id="fee_percent-feedback"', 1)[1][:300]
    assert response.status_code == 400 and "invalid-feedback" in feedback
    assert db.session.execute(select(Clan)).first() is None


def test_a_100_percent_fund_cut_is_a_form_error_not_a_server_error(client, make_user, login):
    login(make_user())
    response = client.post("/clans/new", data={**FORM, "fund_percent": "100"})
    html = response.get_data(as_text=True)
    feedback = html.split('id="fund_percent-feedback"', 1)[1][:300]
    assert response.status_code == 400 and "血盟基金抽成必須至少 0%，且低於 100%。" in feedback
    assert db.session.execute(select(Clan)).first() is None
    with pytest.raises(ValidationError) as caught:
        clans.validate_settings(ClanSettings("星辰", "肯特01", fund_cut_bps=10000))
    assert caught.value.field == "fund_cut_bps"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "  "}, "name"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"caller_bonus": "abc"}, "caller_bonus"),
        ({"checkin_window_minutes": 60, "rollcall_lock_minutes": 30}, "rollcall_lock_minutes"),
        ({"fee_policy": "nobody"}, "fee_policy"),
    ],
)
def test_bad_settings_name_the_field(make_user, change, field):
    settings = ClanSettings(**{"name": "n", "server": "s", **change})
    with pytest.raises(ValidationError) as error:
        clans.create_clan(db.session, make_user().id, settings)
    assert error.value.field == field


def test_rate_change_adds_a_dated_rate_and_keeps_the_old_one(make_user):
    leader = make_user()
    clan = clans.create_clan(db.session, leader.id, ClanSettings("星辰", "肯特01", fee_bps=500))
    start = clans.clan_today(clan)
    later = start + timedelta(days=10)
    current = clans.current_settings(db.session, clan)
    changed = clans.update_settings(
        db.session, leader.id, clan.id, ClanSettings(**{**current.__dict__, "fee_bps": 450}), later
    )
    assert [(r.kind, r.bps) for r in changed] == [(RateKind.EXCHANGE_FEE, 450)]
    assert _rates(clan.id) == [
        ("exchange_fee", 500, start),
        ("exchange_fee", 450, later),
        ("fund_cut", 1000, start),
    ]
    assert (
        rates.rate_in_force(db.session, clan.id, RateKind.EXCHANGE_FEE, later - timedelta(1)).bps
        == 500
    )
    assert rates.rate_in_force(db.session, clan.id, RateKind.EXCHANGE_FEE, later).bps == 450
    with pytest.raises(NotFound):
        rates.rate_in_force(db.session, clan.id, RateKind.EXCHANGE_FEE, start - timedelta(1))
    # A second change on the same day replaces that day's rate; the audit log keeps both.
    clans.update_settings(
        db.session, leader.id, clan.id, ClanSettings(**{**current.__dict__, "fee_bps": 400}), later
    )
    assert ("exchange_fee", 400, later) in _rates(clan.id)
    assert len(_rates(clan.id)) == 3
    update = db.session.execute(
        select(AuditLog).where(AuditLog.entity_type == "ClanRate", AuditLog.action == "update")
    ).scalar_one()
    assert (update.before["bps"], update.after["bps"], update.actor_id) == (450, 400, leader.id)


def test_settings_without_rate_change_add_no_rate(make_user):
    leader = make_user()
    clan = clans.create_clan(db.session, leader.id, ClanSettings("星辰", "肯特01"))
    settings = clans.current_settings(db.session, clan)
    changed = clans.update_settings(
        db.session, leader.id, clan.id, ClanSettings(**{**settings.__dict__, "name": "新名字"})
    )
    assert changed == [] and len(_rates(clan.id)) == 2
    audit = db.session.execute(
        select(AuditLog).where(AuditLog.entity_type == "Clan", AuditLog.action == "update")
    ).scalar_one()
    assert (audit.before["name"], audit.after["name"]) == ("星辰", "新名字")


def test_settings_form_round_trip(client, make_user, login):
    leader = make_user()
    clan = clans.create_clan(
        db.session, leader.id, ClanSettings("星辰", "肯特01", caller_bonus="1/2")
    )
    login(leader)
    page = client.get(f"/clans/{clan.id}/settings").get_data(as_text=True)
    assert 'value="0.50"' in page and 'value="5.00"' in page  # prefilled from the clan
    response = client.post(
        f"/clans/{clan.id}/settings", data={**FORM, "fee_percent": "4.5", "effective_from": ""}
    )
    assert response.status_code == 302
    assert (
        rates.rate_in_force(db.session, clan.id, RateKind.EXCHANGE_FEE, clans.clan_today(clan)).bps
        == 450
    )


def test_only_the_leader_changes_settings(make_user, make_clan, add_member):
    leader, officer = make_user(), make_user()
    clan = make_clan(leader)
    add_member(clan, officer, Role.OFFICER)
    settings = clans.current_settings(db.session, clan)
    with pytest.raises(PermissionDenied):
        clans.update_settings(db.session, officer.id, clan.id, settings)
    with pytest.raises(NotFound):
        clans.update_settings(db.session, make_user().id, clan.id, settings)


@pytest.fixture
def team(make_user, make_clan, add_member):
    leader, officer, member = make_user("lead"), make_user("off"), make_user("mem")
    clan = make_clan(leader)
    add_member(clan, officer, Role.OFFICER)
    add_member(clan, member)
    return clan, leader, officer, member


def _membership(clan, user) -> Membership:
    return db.session.execute(
        select(Membership).where(Membership.clan_id == clan.id, Membership.user_id == user.id)
    ).scalar_one()


def test_join_by_invite_link_and_officer_approval(client, login, team, make_user):
    clan, _leader, officer, _member = team
    newcomer = make_user("newbie")
    login(newcomer)
    page = client.get(f"/join/{clan.invite_code.lower()}")  # codes are case-insensitive
    assert page.status_code == 200 and clan.name in page.get_data(as_text=True)
    assert client.post(f"/join/{clan.invite_code}").status_code == 302
    pending = _membership(clan, newcomer)
    assert pending.status == "pending"
    assert client.get(f"/clans/{clan.id}/members").status_code == 404  # not in yet
    with pytest.raises(Conflict):  # a double submit
        memberships.request_join(db.session, newcomer.id, clan.invite_code)
    login(officer)
    assert "newbie" in client.get(f"/clans/{clan.id}/members").get_data(as_text=True)
    assert client.post(f"/clans/{clan.id}/members/{pending.id}/approve").status_code == 302
    db.session.refresh(pending)
    assert pending.status == "active" and pending.role == Role.MEMBER
    with pytest.raises(Conflict):  # decided already
        memberships.decide_request(db.session, officer.id, clan.id, pending.id, False)


def test_join_with_a_typed_code(client, login, team, make_user):
    clan = team[0]
    login(make_user())
    bad = client.post("/join", data={"code": "nope"})
    assert "這個邀請碼無效" in bad.get_data(as_text=True)
    code = f"{clan.invite_code[:4]}-{clan.invite_code[4:]}".lower()
    response = client.post("/join", data={"code": code})
    assert response.headers["Location"] == f"/join/{clan.invite_code}"


def test_members_cannot_approve_and_rejected_users_may_ask_again(team, make_user):
    clan, _leader, officer, member = team
    newcomer = make_user()
    request = memberships.request_join(db.session, newcomer.id, clan.invite_code)
    with pytest.raises(PermissionDenied):
        memberships.decide_request(db.session, member.id, clan.id, request.id, True)
    memberships.decide_request(db.session, officer.id, clan.id, request.id, False)
    assert request.status == "rejected"
    again = memberships.request_join(db.session, newcomer.id, clan.invite_code)
    assert again.id == request.id and again.status == "pending"


def test_regenerated_invite_code_retires_the_old_link(client, login, team, make_user):
    clan, _leader, officer, _member = team
    old = clan.invite_code
    new = memberships.regenerate_invite(db.session, officer.id, clan.id)
    assert new != old
    login(make_user())
    assert client.get(f"/join/{old}").status_code == 404
    assert client.get(f"/join/{new}").status_code == 200


def test_leader_promotes_and_demotes(team):
    clan, leader, officer, member = team
    target = _membership(clan, member)
    memberships.set_role(db.session, leader.id, clan.id, target.id, Role.OFFICER)
    assert target.role == Role.OFFICER
    memberships.set_role(db.session, leader.id, clan.id, target.id, Role.MEMBER)
    assert target.role == Role.MEMBER
    with pytest.raises(PermissionDenied):  # officers do not change roles
        memberships.set_role(db.session, officer.id, clan.id, target.id, Role.OFFICER)
    with pytest.raises(ValidationError):  # leadership moves only by hand-over
        memberships.set_role(db.session, leader.id, clan.id, target.id, Role.LEADER)
    with pytest.raises(PermissionDenied):
        memberships.set_role(db.session, leader.id, clan.id, _membership(clan, leader).id, "member")


def test_hand_over_leadership(client, login, team):
    clan, leader, officer, member = team
    login(leader)
    target = _membership(clan, member)
    assert client.post(f"/clans/{clan.id}/members/{target.id}/leader").status_code == 302
    db.session.expire_all()
    assert _membership(clan, member).role == Role.LEADER
    assert _membership(clan, leader).role == Role.OFFICER
    # The old leader lost the leader-only pages.
    assert client.get(f"/clans/{clan.id}/settings").status_code == 403
    with pytest.raises(PermissionDenied):
        memberships.hand_over_leadership(
            db.session, leader.id, clan.id, _membership(clan, officer).id
        )


def test_removing_a_member_keeps_their_history(client, login, team, make_character):
    clan, _leader, officer, member = team
    character = make_character(clan, member, "阿明")
    login(officer)
    target = _membership(clan, member)
    assert client.post(f"/clans/{clan.id}/members/{target.id}/remove").status_code == 302
    db.session.expire_all()
    assert _membership(clan, member).status == "removed"
    kept = db.session.get(Character, character.id)
    assert kept is not None and kept.user_id == member.id and kept.active is False
    login(member)
    assert client.get(f"/clans/{clan.id}/members").status_code == 404
    rows = db.session.execute(
        select(AuditLog).where(AuditLog.entity_type == "Membership", AuditLog.action == "update")
    ).scalars()
    assert any(r.after["status"] == "removed" and r.actor_id == officer.id for r in rows)


def test_officers_cannot_remove_officers_or_the_leader(team, make_user, add_member):
    clan, leader, officer, _member = team
    other_officer = make_user()
    add_member(clan, other_officer, Role.OFFICER)
    with pytest.raises(PermissionDenied):
        memberships.remove_member(
            db.session, officer.id, clan.id, _membership(clan, other_officer).id
        )
    with pytest.raises(PermissionDenied):
        memberships.remove_member(db.session, officer.id, clan.id, _membership(clan, leader).id)
    memberships.remove_member(db.session, leader.id, clan.id, _membership(clan, other_officer).id)


def test_leave_clan_but_not_as_leader(team):
    clan, leader, _officer, member = team
    with pytest.raises(Conflict):
        memberships.leave_clan(db.session, leader.id, clan.id)
    memberships.leave_clan(db.session, member.id, clan.id)
    assert _membership(clan, member).status == "removed"


def test_members_page_hides_requests_from_members(client, login, team, make_user):
    clan, _leader, _officer, member = team
    memberships.request_join(db.session, make_user("hopeful").id, clan.invite_code)
    login(member)
    html = client.get(f"/clans/{clan.id}/members").get_data(as_text=True)
    assert "hopeful" not in html and "lead" in html


def test_my_clans_lists_active_and_pending(client, login, team, make_clan, make_user):
    clan, _leader, _officer, member = team
    other = make_clan(make_user(), name="月光")
    memberships.request_join(db.session, member.id, other.invite_code)
    login(member)
    html = client.get("/").get_data(as_text=True)
    assert clan.name in html and "月光" in html and "等待核准" in html


def test_audit_page_shows_readable_diffs_to_officers_only(client, login, team):
    clan, leader, officer, member = team
    old_name = clan.name
    settings = clans.current_settings(db.session, clan)
    clans.update_settings(
        db.session, leader.id, clan.id, ClanSettings(**{**settings.__dict__, "name": "新名字"})
    )
    login(officer)
    html = client.get(f"/clans/{clan.id}/audit").get_data(as_text=True)
    assert f'<td class="diff-before break-all">{old_name}</td>' in html
    assert '<td class="diff-after break-all">新名字</td>' in html
    assert "修改" in html and leader.display_name in html
    filtered = client.get(f"/clans/{clan.id}/audit?type=ClanRate").get_data(as_text=True)
    # Record kinds show in the reader's language: 血盟 (Clan), 血盟費率 (ClanRate).
    assert "血盟 #" not in filtered and "血盟費率 #" in filtered
    login(member)
    assert client.get(f"/clans/{clan.id}/audit").status_code == 403


def test_audit_entries_name_players_and_characters(team, make_character):
    clan, _leader, officer, member = team

    make_character(clan, member, "阿明")
    entries = history.audit_page(db.session, officer.id, clan.id).entries
    character = next(e for e in entries if e.row.entity_type == "Character")
    labels = {c.field: c.after_label for c in character.changes}
    assert labels["user_id"] == member.display_name
    assert "clan_id" not in labels  # the page is about this clan already


def test_settings_keep_a_timezone_outside_the_usual_list(client, login, make_user, make_clan):
    leader = make_user()
    clan = make_clan(leader, timezone="Europe/Berlin")
    login(leader)
    assert "Europe/Berlin" in client.get(f"/clans/{clan.id}/settings").get_data(as_text=True)
    response = client.post(f"/clans/{clan.id}/settings", data={**FORM, "timezone": "Europe/Berlin"})
    assert response.status_code == 302
    db.session.refresh(clan)
    assert clan.timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("page", "active"),
    [("statement", "我的明細"), ("statements", "全員餘額"), ("audit", "稽核紀錄")],
)
def test_one_clan_nav_entry_is_marked_current(client, login, team, page, active):
    """Two entries of one blueprint (my statement, balances) must not both light up."""
    clan, _leader, officer, _member = team
    login(officer)
    html = client.get(f"/clans/{clan.id}/{page}").get_data(as_text=True)
    current = re.findall(r'aria-current="page">([^<]+)</a>', html)
    assert current == [active]


def test_every_registered_clan_tab_opens_for_the_leader(client, login, team):
    """Each navigation entry resolves to a page the leader can open."""
    from clanledger.web.nav import registered_items

    clan, leader, _officer, _member = team
    login(leader)
    items = registered_items()
    assert {"dashboard.index", "close.index", "audit.index"} <= {i.endpoint for i in items}
    with client.application.test_request_context():
        urls = {i.endpoint: url_for(i.endpoint, clan_id=clan.id) for i in items}
    failing = {e: client.get(u).status_code for e, u in urls.items()}
    assert {e: s for e, s in failing.items() if s != 200} == {}


def test_the_audit_log_speaks_words_not_columns(client, make_user, login):
    """Column names, flags and stored codes read in the officer's language; keys that only
    the program needs are not shown."""
    leader = make_user()
    login(leader)
    client.post("/clans/new", data=FORM)
    clan = db.session.execute(select(Clan)).scalar_one()
    html = client.get(f"/clans/{clan.id}/audit").get_data(as_text=True)
    assert "手續費由誰負擔" in html and "付款方" in html  # fee_policy and its value "payer"
    assert "fee_policy" not in html and "carry_threshold" not in html
    assert "exchange_fee" not in html and "10%" in html  # a rate's kind and basis points
    assert "idempotency_key" not in html
