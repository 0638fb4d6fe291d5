"""Characters: several per player, roster characters and claim links, one clan at a time."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from clanledger.extensions import db
from clanledger.models import Character, Role
from clanledger.services import characters
from clanledger.services.errors import Conflict, NotFound, PermissionDenied, ValidationError


@pytest.fixture
def team(make_user, make_clan, add_member):
    leader, officer, member = make_user("lead"), make_user("off"), make_user("mem")
    clan = make_clan(leader)
    add_member(clan, officer, Role.OFFICER)
    add_member(clan, member)
    return clan, leader, officer, member


def test_a_player_adds_a_main_and_alts(client, login, team):
    clan, _leader, _officer, member = team
    login(member)
    for name, char_class in (("阿明", "騎士"), ("阿明二號", "妖精")):
        response = client.post(
            f"/clans/{clan.id}/characters", data={"name": name, "char_class": char_class}
        )
        assert response.status_code == 302
    mine = db.session.execute(select(Character).where(Character.user_id == member.id)).scalars()
    assert sorted((c.name, c.char_class) for c in mine) == [("阿明", "騎士"), ("阿明二號", "妖精")]
    page = client.get(f"/clans/{clan.id}/characters").get_data(as_text=True)
    assert "阿明二號" in page


def test_duplicate_name_in_the_clan_is_an_error_on_the_field(client, login, team):
    clan, _leader, officer, member = team
    characters.add_character(db.session, officer.id, clan.id, "夜風")
    login(member)
    response = client.post(f"/clans/{clan.id}/characters", data={"name": "夜風"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409  # a valid form the service refuses
    assert "血盟裡已經有同名的角色" in html.split('id="name-feedback"', 1)[1][:200]


def test_a_character_is_in_one_clan_at_a_time(team, make_user, make_clan):
    clan, _leader, _officer, member = team
    characters.add_character(db.session, member.id, clan.id, "夜風")
    rival_leader = make_user()
    same_server = make_clan(rival_leader, server=clan.server)
    with pytest.raises(Conflict, match="another clan"):
        characters.add_character(db.session, rival_leader.id, same_server.id, "夜風")
    other_server = make_clan(rival_leader, server="肯特02")
    characters.add_character(db.session, rival_leader.id, other_server.id, "夜風")  # allowed


def test_a_character_may_move_after_leaving(team, make_user, make_clan):
    clan, _leader, _officer, member = team
    character = characters.add_character(db.session, member.id, clan.id, "夜風")
    characters.update_character(
        db.session, member.id, clan.id, character.id, "夜風", "騎士", active=False
    )
    rival_leader = make_user()
    new_clan = make_clan(rival_leader, server=clan.server)
    moved = characters.add_character(db.session, rival_leader.id, new_clan.id, "夜風")
    assert moved.clan_id == new_clan.id
    with pytest.raises(Conflict):  # and cannot come back active while it is there
        characters.update_character(
            db.session, member.id, clan.id, character.id, "夜風", "騎士", active=True
        )


def test_roster_character_and_claim_link(client, login, team):
    clan, _leader, officer, member = team
    login(officer)
    response = client.post(
        f"/clans/{clan.id}/characters/roster",
        data={"roster-name": "無帳號的阿傑", "roster-char_class": "法師"},
    )
    assert response.status_code == 302
    roster = db.session.execute(
        select(Character).where(Character.name == "無帳號的阿傑")
    ).scalar_one()
    assert roster.user_id is None
    page = client.post(f"/clans/{clan.id}/characters/{roster.id}/claim-link")
    link = page.get_data(as_text=True).split("/claim/", 1)[1].split('"', 1)[0]
    db.session.refresh(roster)
    assert roster.claim_token_hash and link not in roster.claim_token_hash  # only the hash
    login(member)
    assert "無帳號的阿傑" in client.get(f"/claim/{link}").get_data(as_text=True)
    assert client.post(f"/claim/{link}").status_code == 302
    db.session.refresh(roster)
    assert roster.user_id == member.id and roster.claim_token_hash is None
    assert client.get(f"/claim/{link}").status_code == 404  # used once


def test_claiming_needs_membership_of_the_clan(team, make_user):
    clan, _leader, officer, _member = team
    roster = characters.add_roster_character(db.session, officer.id, clan.id, "路人甲")
    token = characters.create_claim_link(db.session, officer.id, clan.id, roster.id)
    with pytest.raises(PermissionDenied, match="Join the clan"):
        characters.claim_character(db.session, make_user().id, token)
    assert db.session.get(Character, roster.id).user_id is None


def test_claim_links_only_for_unowned_characters_and_only_by_officers(team):
    clan, _leader, officer, member = team
    own = characters.add_character(db.session, member.id, clan.id, "阿明")
    with pytest.raises(Conflict):
        characters.create_claim_link(db.session, officer.id, clan.id, own.id)
    roster = characters.add_roster_character(db.session, officer.id, clan.id, "路人甲")
    with pytest.raises(PermissionDenied):
        characters.create_claim_link(db.session, member.id, clan.id, roster.id)
    with pytest.raises(PermissionDenied):
        characters.add_roster_character(db.session, member.id, clan.id, "路人乙")
    first = characters.create_claim_link(db.session, officer.id, clan.id, roster.id)
    second = characters.create_claim_link(db.session, officer.id, clan.id, roster.id)
    with pytest.raises(NotFound):  # a new link replaces the old one
        characters.character_for_claim(db.session, first)
    assert characters.character_for_claim(db.session, second).id == roster.id


def test_only_the_owner_or_an_officer_edits(client, login, team, make_user, add_member):
    clan, _leader, officer, member = team
    other = make_user()
    add_member(clan, other)
    character = characters.add_character(db.session, member.id, clan.id, "阿明")
    with pytest.raises(PermissionDenied):
        characters.update_character(db.session, other.id, clan.id, character.id, "x", "", True)
    characters.update_character(db.session, officer.id, clan.id, character.id, "阿明", "王族", True)
    login(other)
    assert client.get(f"/clans/{clan.id}/characters/{character.id}/edit").status_code == 403
    login(member)
    response = client.post(
        f"/clans/{clan.id}/characters/{character.id}/edit",
        data={"name": "阿明改", "char_class": "王族", "active": "y"},
    )
    assert response.status_code == 302
    db.session.refresh(character)
    assert (character.name, character.char_class, character.active) == ("阿明改", "王族", True)


def test_characters_of_another_clan_are_not_found(team, make_user, make_clan):
    clan, _leader, _officer, member = team
    outsider = make_user()
    other = make_clan(outsider)
    theirs = characters.add_character(db.session, outsider.id, other.id, "別盟")
    with pytest.raises(NotFound):
        characters.get_character(db.session, member.id, clan.id, theirs.id)
    with pytest.raises(NotFound):
        characters.list_characters(db.session, outsider.id, clan.id)


def test_blank_name_is_refused(team):
    clan, _leader, _officer, member = team
    with pytest.raises(ValidationError) as error:
        characters.add_character(db.session, member.id, clan.id, "   ")
    assert error.value.field == "name"


def test_invisible_and_look_alike_names_are_refused(make_user, make_clan):
    """``B\u200bob`` passes for ``Bob`` on a screen; full-width ``Ｂｏｂ`` is ``Bob``."""
    leader = make_user()
    clan = make_clan(leader=leader)
    characters.add_roster_character(db.session, leader.id, clan.id, "Bob")
    for name in ("B\u200bob", "\u202eboB"):
        with pytest.raises(ValidationError, match="invisible"):
            characters.add_roster_character(db.session, leader.id, clan.id, name)
    for name in ("Ｂｏｂ", "BOB"):
        with pytest.raises(ValidationError, match="already in the clan"):
            characters.add_roster_character(db.session, leader.id, clan.id, name)
