"""Setting a clan up: the built-in Lineage W boss list and the dashboard's first-run
checklist."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from sqlalchemy import select

from clanledger.extensions import db
from clanledger.models import Boss, Role
from clanledger.services import bosses, onboarding
from clanledger.services.errors import NotFound, PermissionDenied, ValidationError


@pytest.fixture
def team(make_user, make_clan, add_member):
    leader, officer, member = make_user("lead"), make_user("off"), make_user("mem")
    clan = make_clan(leader)
    add_member(clan, officer, Role.OFFICER)
    add_member(clan, member)
    return clan, leader, officer, member


def _boss_names(clan) -> list[str]:
    return sorted(db.session.execute(select(Boss.name).where(Boss.clan_id == clan.id)).scalars())


def test_the_built_in_list_loads_and_is_valid():
    raw = json.loads(
        (resources.files("clanledger") / "data" / "bosses_lineage_w.json").read_text("utf-8")
    )["bosses"]
    catalogue = bosses.boss_catalogue()
    assert len(catalogue) == len(raw) >= 10
    assert len({boss.key for boss in catalogue}) == len(catalogue)
    names = [key for boss in catalogue for key in boss.keys]
    assert len(set(names)) == len(names)
    assert all(boss.zh_hant.strip() and boss.key.strip() for boss in catalogue)
    assert {boss.kind for boss in catalogue} == {"world", "field"}
    assert [boss.kind for boss in catalogue] == sorted(
        (boss.kind for boss in catalogue), key=bosses.BOSS_KINDS.index
    )


def test_picking_twice_adds_no_duplicate(team):
    clan, leader, officer, _member = team
    bosses.add_boss(db.session, leader.id, clan.id, "Baphomet")  # its English name
    added = bosses.add_from_catalogue(
        db.session, officer.id, clan.id, ["baphomet", "death-knight", "kurtz", "kurtz"]
    )
    assert added == 2
    assert bosses.add_from_catalogue(db.session, officer.id, clan.id, ["death-knight"]) == 0
    assert _boss_names(clan) == sorted(["Baphomet", "死亡騎士", "克特"])
    present = {
        c.boss.key for c in bosses.catalogue_choices(db.session, officer.id, clan.id) if c.present
    }
    assert present == {"baphomet", "death-knight", "kurtz"}


def test_a_picked_boss_is_edited_like_the_clans_own(team):
    clan, leader, _officer, _member = team
    bosses.add_from_catalogue(db.session, leader.id, clan.id, ["ifrit"], locale="en")
    boss = db.session.execute(select(Boss).where(Boss.clan_id == clan.id)).scalar_one()
    assert boss.name == "Ifrit"
    bosses.update_boss(db.session, leader.id, clan.id, boss.id, "火焰伊弗", active=False)
    assert _boss_names(clan) == ["火焰伊弗"]


def test_unknown_keys_and_members_are_refused(team):
    clan, _leader, officer, member = team
    with pytest.raises(ValidationError):
        bosses.add_from_catalogue(db.session, officer.id, clan.id, ["kurtz", "godzilla"])
    with pytest.raises(PermissionDenied):
        bosses.add_from_catalogue(db.session, member.id, clan.id, ["kurtz"])
    assert _boss_names(clan) == []


def test_the_pick_page_marks_present_bosses_and_adds_the_ticked_ones(client, login, team):
    clan, leader, officer, member = team
    bosses.add_boss(db.session, leader.id, clan.id, "巴風特")
    login(officer)
    page = client.get(f"/clans/{clan.id}/bosses/catalogue").get_data(as_text=True)
    assert 'value="baphomet" disabled checked' in page
    assert "天堂W王表" in page and "已在清單" in page
    url = f"/clans/{clan.id}/bosses/catalogue"
    assert client.post(url, data={"bosses": ["kurtz", "ifrit"]}).status_code == 302
    assert client.post(url, data={"bosses": ["kurtz"]}).status_code == 302
    assert client.post(url, data={}).status_code == 400
    assert client.post(url, data={"bosses": ["nope"]}).status_code == 400
    assert _boss_names(clan) == sorted(["巴風特", "克特", "伊弗利特"])
    login(member)
    assert client.post(url, data={"bosses": ["phoenix"]}).status_code == 403


def _states(clan, user) -> dict[str, bool]:
    return {
        item.key: item.done
        for item in onboarding.setup_checklist(db.session, user.id, clan.id).items
    }


def test_checklist_states_follow_the_data(make_user, make_clan, make_character, add_member):
    leader = make_user()
    clan = make_clan(leader)
    assert _states(clan, leader) == {
        "fee_rate": True,
        "fund_cut": True,
        "roster": False,
        "bosses": False,
        "invite": False,
    }
    make_character(clan, leader)
    assert not _states(clan, leader)["roster"]
    make_character(clan, None)
    boss = bosses.add_boss(db.session, leader.id, clan.id, "克特")
    add_member(clan, make_user(), status="pending")
    assert all(_states(clan, leader).values())
    bosses.update_boss(db.session, leader.id, clan.id, boss.id, "克特", active=False)
    assert not _states(clan, leader)["bosses"]


def test_a_clan_without_rates_shows_them_not_done(app, make_user, make_clan):
    leader = make_user()
    clan = make_clan(leader)
    for rate in list(clan.rates):
        db.session.delete(rate)
    db.session.commit()
    states = _states(clan, leader)
    assert (states["fee_rate"], states["fund_cut"]) == (False, False)


def test_the_dashboard_shows_the_checklist_to_officers_until_done_or_hidden(
    client, login, team, make_character
):
    clan, leader, officer, member = team
    login(member)
    assert 'id="setup-checklist"' not in client.get(f"/clans/{clan.id}/").get_data(as_text=True)
    login(officer)
    page = client.get(f"/clans/{clan.id}/").get_data(as_text=True)
    assert 'id="setup-checklist"' in page
    assert 'data-item="roster" data-done="no"' in page
    assert 'data-item="invite" data-done="yes"' in page
    assert f'href="/clans/{clan.id}/bosses/catalogue"' in page
    assert client.post(f"/clans/{clan.id}/checklist/dismiss").status_code == 302
    assert 'id="setup-checklist"' not in client.get(f"/clans/{clan.id}/").get_data(as_text=True)
    login(leader)  # hidden by the officer, for the officer only
    assert 'id="setup-checklist"' in client.get(f"/clans/{clan.id}/").get_data(as_text=True)
    make_character(clan, None)
    make_character(clan, None)
    bosses.add_boss(db.session, leader.id, clan.id, "克特")
    assert 'id="setup-checklist"' not in client.get(f"/clans/{clan.id}/").get_data(as_text=True)


def test_only_officers_of_the_clan_read_the_checklist(team, make_user):
    clan, _leader, officer, member = team
    assert len(onboarding.setup_checklist(db.session, officer.id, clan.id).items) == 5
    with pytest.raises(PermissionDenied):
        onboarding.setup_checklist(db.session, member.id, clan.id)
    with pytest.raises(NotFound):
        onboarding.setup_checklist(db.session, make_user().id, clan.id)
