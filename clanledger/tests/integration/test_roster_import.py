"""Roster import and export: preview, all-or-nothing, the valid lines only, the round trip,
upload limits and who may do it."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from clanledger.domain.roster import MAX_ROSTER_BYTES, MAX_ROSTER_LINES
from clanledger.extensions import db
from clanledger.models import Character, Role
from clanledger.services import roster
from clanledger.services.errors import PermissionDenied, ValidationError


@pytest.fixture
def team(make_user, make_clan, add_member):
    leader = make_user("lead", display_name="老大")
    officer = make_user("off", display_name="小明")
    member = make_user("mem", display_name="阿花")
    clan = make_clan(leader, name="星辰")
    add_member(clan, officer, Role.OFFICER)
    add_member(clan, member)
    return clan, leader, officer, member


def _names(clan) -> list[str]:
    rows = db.session.execute(select(Character.name).where(Character.clan_id == clan.id))
    return sorted(rows.scalars())


def _import_url(clan) -> str:
    return f"/clans/{clan.id}/characters/import"


def test_valid_lines_are_imported_with_their_class_and_player(team):
    clan, _leader, officer, member = team
    text = "角色,職業,玩家\n阿瑞斯,騎士,小明\n小綠,妖精,mem\n路人甲\n"
    result = roster.import_roster(db.session, officer.id, clan.id, text)
    assert (result.created, result.skipped) == (3, 0)
    rows = db.session.execute(
        select(Character.name, Character.char_class, Character.user_id)
        .where(Character.clan_id == clan.id)
        .order_by(Character.name)
    ).all()
    assert sorted(rows) == sorted(
        [("阿瑞斯", "騎士", officer.id), ("小綠", "妖精", member.id), ("路人甲", "", None)]
    )


def test_lines_refused_against_the_clan_carry_their_line_numbers(team, make_clan, make_character):
    clan, _leader, officer, _member = team
    make_character(clan, None, name="bob")
    other = make_clan(server=clan.server)
    make_character(other, None, name="影子")
    text = "阿瑞斯\nＢｏｂ\n影子\n小綠,妖精,nobody\n阿瑞斯\nB\u200bad\n"
    preview = roster.preview_roster(db.session, officer.id, clan.id, text)
    assert [line.line.name for line in preview.lines] == ["阿瑞斯"]
    assert [(e.number, e.params["line"]) for e in preview.errors] == [
        (2, 2),
        (3, 3),
        (4, 4),
        (5, 5),
        (6, 6),
    ]
    assert preview.errors[0].message == "Line %(line)s: %(name)s is already in the clan."
    assert "another clan" in preview.errors[1].message
    assert preview.errors[2].params["player"] == "nobody"


def test_a_player_name_two_members_share_is_refused(team, make_user, add_member):
    clan, _leader, officer, _member = team
    add_member(clan, make_user("ming2", display_name="小明"))
    preview = roster.preview_roster(db.session, officer.id, clan.id, "甲,騎士,小明\n乙,妖精,off\n")
    assert [e.number for e in preview.errors] == [1]
    assert "several members" in preview.errors[0].message
    assert [(row.line.name, row.user_id) for row in preview.lines] == [("乙", officer.id)]


def test_nothing_is_written_when_a_line_is_refused(team, make_character):
    clan, _leader, officer, _member = team
    make_character(clan, None, name="bob")
    before = _names(clan)
    with pytest.raises(ValidationError) as refused:
        roster.import_roster(db.session, officer.id, clan.id, "阿瑞斯\nBOB\n小綠\n")
    assert refused.value.params == {"count": 1}
    assert _names(clan) == before


def test_import_the_valid_lines_skips_the_refused_ones(team, make_character):
    clan, _leader, officer, _member = team
    make_character(clan, None, name="bob")
    result = roster.import_roster(
        db.session, officer.id, clan.id, "阿瑞斯\nBOB\n小綠\n小綠\n", valid_only=True
    )
    assert (result.created, result.skipped) == (2, 2)
    assert _names(clan) == sorted(["bob", "阿瑞斯", "小綠"])


def test_only_officers_import(team):
    clan, _leader, _officer, member = team
    with pytest.raises(PermissionDenied):
        roster.preview_roster(db.session, member.id, clan.id, "阿瑞斯\n")
    with pytest.raises(PermissionDenied):
        roster.import_roster(db.session, member.id, clan.id, "阿瑞斯\n")
    assert _names(clan) == []


def test_preview_page_lists_each_refused_line_in_chinese_and_writes_nothing(client, login, team):
    clan, _leader, officer, _member = team
    login(officer)
    response = client.post(_import_url(clan), data={"roster": "阿瑞斯\n阿瑞斯\n,騎士\n"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "第 2 行：阿瑞斯 和第 1 行是同一個名字。" in page
    assert "第 3 行：名稱為 1 到 64 個字" in page
    assert 'value="valid"' in page and 'value="all"' not in page
    assert _names(clan) == []


def test_line_messages_follow_the_readers_language(client, login, team):
    clan, _leader, officer, _member = team
    login(officer)
    client.post("/lang", data={"locale": "en"})
    page = client.post(_import_url(clan), data={"roster": "阿瑞斯\n阿瑞斯\n"}).get_data(True)
    assert "Line 2: 阿瑞斯 is the same name as line 1." in page


def test_the_web_import_refuses_all_unless_valid_lines_are_chosen(client, login, team):
    clan, _leader, officer, _member = team
    login(officer)
    data = {"roster": "阿瑞斯\n阿瑞斯\n小綠\n", "mode": "all"}
    response = client.post(_import_url(clan), data=data)
    assert response.status_code == 409
    assert "有 1 行無法匯入，所以全部都沒有匯入。" in response.get_data(as_text=True)
    assert _names(clan) == []
    response = client.post(_import_url(clan), data={**data, "mode": "valid"})
    assert response.status_code == 302
    assert _names(clan) == sorted(["阿瑞斯", "小綠"])


def test_an_uploaded_file_is_imported(client, login, team):
    clan, _leader, officer, _member = team
    login(officer)
    upload = (io.BytesIO("阿瑞斯,騎士\n小綠,妖精\n".encode("big5")), "roster.csv")
    response = client.post(
        _import_url(clan),
        data={"upload": upload, "mode": "all"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert _names(clan) == sorted(["阿瑞斯", "小綠"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"a" * (MAX_ROSTER_BYTES + 1), "名單超過 64 KB"),
        ("\n".join(f"c{i}" for i in range(MAX_ROSTER_LINES + 1)).encode(), "名單超過 500 行"),
    ],
)
def test_upload_limits_give_a_clear_message(client, login, team, body, message):
    clan, _leader, officer, _member = team
    login(officer)
    response = client.post(
        _import_url(clan),
        data={"upload": (io.BytesIO(body), "big.csv"), "mode": "all"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)
    assert _names(clan) == []


def test_export_then_import_into_another_clan_gives_the_same_roster(
    client, login, team, make_clan, add_member, make_character
):
    clan, leader, officer, member = team
    make_character(clan, officer, name="阿瑞斯", char_class="騎士")
    make_character(clan, member, name="=公式", char_class="法師")
    make_character(clan, None, name="Bob, Jr", char_class="")
    login(leader)
    response = client.get(f"/clans/{clan.id}/characters/export")
    assert response.status_code == 200
    assert response.data.startswith("\ufeff".encode())
    assert "星辰-" in response.headers["Content-Disposition"].replace("%E6%98%9F%E8%BE%B0", "星辰")
    text = response.data.decode("utf-8-sig")
    assert text.splitlines()[0] == "角色,職業,玩家"

    second = make_clan(leader, server="肯特02")
    add_member(second, officer)
    add_member(second, member)
    roster.import_roster(db.session, leader.id, second.id, text)

    def rows(of):
        return sorted(
            db.session.execute(
                select(Character.name, Character.char_class, Character.user_id).where(
                    Character.clan_id == of.id
                )
            ).all()
        )

    assert rows(second) == rows(clan)


def test_officer_only_pages_and_foreign_clan(client, login, team, make_clan, make_user):
    clan, _leader, _officer, member = team
    login(member)
    assert client.get(_import_url(clan)).status_code == 403
    assert client.post(_import_url(clan), data={"roster": "x", "mode": "all"}).status_code == 403
    assert client.get(f"/clans/{clan.id}/characters/export").status_code == 200
    foreign = make_clan(make_user())
    assert client.get(_import_url(foreign)).status_code == 404
    assert client.get(f"/clans/{foreign.id}/characters/export").status_code == 404
    count = db.session.execute(select(func.count(Character.id))).scalar_one()
    assert count == 0


def test_a_body_over_the_request_cap_is_refused_before_it_is_read(client, app, login, team):
    clan, _leader, officer, _member = team
    login(officer)
    body = b"a" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post(
        _import_url(clan), data=body, content_type="multipart/form-data; boundary=x"
    )
    assert response.status_code == 413
    assert "超過伺服器可接受的大小" in response.get_data(as_text=True)
    assert _names(clan) == []
