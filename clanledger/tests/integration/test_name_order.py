"""Pages list names in the reader's order: stroke order in Traditional Chinese, Latin
letters without regard to case in English; never by code point as SQL would."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from clanledger.domain import collation
from clanledger.extensions import db
from clanledger.models import EntryKind, Transfer
from clanledger.models.types import utcnow
from clanledger.services import bosses, close, kills, transfers
from clanledger.services.journal import PostingLine, post_entry
from clanledger.services.periods import period_for_day

NAMES = ["星", "bob", "王", "Alice", "一", "夜"]
ZH = ["一", "王", "夜", "星", "Alice", "bob"]
EN = ["Alice", "bob", "一", "夜", "星", "王"]  # Han after Latin, by code point as in the root


@pytest.fixture
def clan_of_names(make_user, make_clan, add_member, make_character):
    leader = make_user("leader")
    clan = make_clan(leader=leader)
    for name in NAMES:
        make_character(clan, None, name)
        bosses.add_boss(db.session, leader.id, clan.id, f"{name}首領")
    return clan, leader


def _in_order(html: str, names: list[str], template: str) -> list[str]:
    found = {name: html.find(template.format(name)) for name in names}
    assert all(at >= 0 for at in found.values()), found
    return sorted(names, key=found.__getitem__)


def _as(client, locale):
    with client.session_transaction() as session:
        session["locale"] = locale


@pytest.mark.parametrize(("locale", "expected"), [("zh_Hant", ZH), ("en", EN)])
def test_roster_boss_and_holder_lists_in_the_readers_order(
    clan_of_names, login, client, locale, expected
):
    clan, leader = clan_of_names
    login(leader)
    _as(client, locale)
    roster = client.get(f"/clans/{clan.id}/characters").get_data(as_text=True)
    assert _in_order(roster, NAMES, ">{}</") == expected
    items = client.get(f"/clans/{clan.id}/drops").get_data(as_text=True)
    holders = items[items.index('id="holder"') :]
    assert _in_order(holders, NAMES, ">{}</option>") == expected
    boss_names = [f"{name}首領" for name in NAMES]
    assert _in_order(holders, boss_names, ">{}</option>") == [f"{n}首領" for n in expected]


def test_services_sort_in_the_reader_order_outside_a_request(clan_of_names):
    clan, leader = clan_of_names
    names = [c.name for c in kills.roster(db.session, leader.id, clan.id)]
    assert names == ZH  # Traditional Chinese, the default
    regulars = kills.roster(db.session, leader.id, clan.id, regulars_first=True)
    assert [c.name for c in regulars] == ZH  # nobody was at a kill: by name


def test_regulars_first_then_by_name(clan_of_names):
    clan, leader = clan_of_names
    roster = {c.name: c for c in kills.roster(db.session, leader.id, clan.id)}
    boss = bosses.list_bosses(db.session, leader.id, clan.id)[0]
    kills.record_kill(
        db.session, leader.id, clan.id, boss_id=boss.id, killed_at=utcnow(),
        participants={roster["星"].id: 1, roster["bob"].id: 1},
    )  # fmt: skip
    regulars = [c.name for c in kills.roster(db.session, leader.id, clan.id, regulars_first=True)]
    assert regulars == ["星", "bob", "一", "王", "夜", "Alice"]


def test_still_to_pay_per_member_is_in_stroke_order(clan_of_names):
    clan, leader = clan_of_names
    roster = {c.name: c for c in kills.roster(db.session, leader.id, clan.id)}
    period = period_for_day(db.session, clan, date(2026, 3, 1))
    for seq, name in enumerate(NAMES, start=1):
        db.session.add(
            Transfer(
                clan_id=clan.id, period_id=period.id, seq=seq, payer_character_id=roster[name].id,
                receiver_character_id=roster["一"].id, net=seq, gross=seq, fee=0,
            )
        )  # fmt: skip
    db.session.commit()
    owed = transfers.outstanding_by_member(db.session, leader.id, clan.id)
    assert list(owed) == ZH and owed["星"] == 1


def test_the_roll_call_of_a_kill_is_in_stroke_order(clan_of_names, login, client):
    clan, leader = clan_of_names
    roster = kills.roster(db.session, leader.id, clan.id)
    boss = bosses.list_bosses(db.session, leader.id, clan.id)[0]
    kill = kills.record_kill(
        db.session, leader.id, clan.id, boss_id=boss.id, killed_at=utcnow(),
        participants={c.id: 1 for c in reversed(roster)},
    )  # fmt: skip
    login(leader)
    html = client.get(f"/clans/{clan.id}/kills/{kill.id}").get_data(as_text=True)
    roll_call = html[html.index('id="roll-call"') :]
    assert _in_order(roll_call, NAMES, "<span>{}\n") == ZH


def test_the_close_lists_balances_by_name_and_plans_alike_in_both_languages(clan_of_names):
    clan, leader = clan_of_names
    roster = {c.name: c for c in kills.roster(db.session, leader.id, clan.id)}
    period = period_for_day(db.session, clan, date(2026, 3, 1))
    amounts = dict(zip(NAMES, (500, -300, 200, -100, 400, -700), strict=True))
    post_entry(
        db.session, clan, kind=EntryKind.ADJUSTMENT,
        lines=[PostingLine("member", roster[name].id, amount) for name, amount in amounts.items()],
        occurred_at=datetime(2026, 3, 10, tzinfo=UTC), actor_id=leader.id, reason="loans",
    )  # fmt: skip
    db.session.commit()
    shown = {}
    for locale in ("zh_Hant", "en"):
        collation.use_locale(locale)
        try:
            shown[locale] = close.preview_close(db.session, leader.id, clan.id, period.id)
        finally:
            collation.use_locale(collation.DEFAULT_LOCALE)
    assert [line.name for line in shown["zh_Hant"].lines] == ZH
    assert [line.name for line in shown["en"].lines] == EN
    assert shown["zh_Hant"].digest == shown["en"].digest  # the order shown is not the plan
