"""Wallets: alts that share one purse are planned as one, settled to zero by a fee-free
netting entry, managed by their player (officers correct them, audited).

The month (March 2026, 5 % fee, the payer grosses up), set by one adjustment:

  夜風 -3705, 夜風二號 +5000 (one player, 風), 星辰 -2000 (player 星), 月影 +705 (player 月)

Per character there is no zero-sum subgroup, so the plan is 3 transfers by the corner rule:
夜風 -> 夜風二號 3705 (gross 3900, fee 195), 星辰 -> 夜風二號 1295 (1364, 69), 星辰 -> 月影
705 (743, 38): 302 in fees. With 夜風 and 夜風二號 in one wallet (+1295) the player never
pays themselves: 星辰 -> 夜風二號 1295 and 星辰 -> 月影 705, 107 in fees. The wallets save
195 diamonds and one transfer; the netting moves 夜風's -3705 onto 夜風二號 (the wallet's
trader: its balance goes the wallet's way).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from test_close_backup import postgres_restore_url, restore_and_read_back

from clanledger.domain.ledger import member
from clanledger.extensions import db
from clanledger.models import AuditLog, Character, EntryKind, JournalEntry, Period, Role
from clanledger.services import backup, close, transfers, wallets
from clanledger.services.close_preview import build_preview
from clanledger.services.errors import Conflict, PermissionDenied, ValidationError
from clanledger.services.journal import PostingLine, member_balances, post_entry
from clanledger.services.periods import period_for_day

MARCH_10 = datetime(2026, 3, 10, 4, tzinfo=UTC)


@pytest.fixture
def purse(make_user, make_clan, add_member, make_character):
    leader, officer = make_user("leader"), make_user("officer")
    wind, star, moon = make_user("wind"), make_user("star"), make_user("moon")
    clan = make_clan(leader=leader)
    add_member(clan, officer, Role.OFFICER)
    for user in (wind, star, moon):
        add_member(clan, user)
    chars = {
        "夜風": make_character(clan, wind, "夜風"),
        "夜風二號": make_character(clan, wind, "夜風二號"),
        "星辰": make_character(clan, star, "星辰"),
        "月影": make_character(clan, moon, "月影"),
    }
    amounts = {"夜風": -3705, "夜風二號": 5000, "星辰": -2000, "月影": 705}
    period = period_for_day(db.session, clan, MARCH_10.date())
    post_entry(
        db.session,
        clan,
        kind=EntryKind.ADJUSTMENT,
        lines=[PostingLine("member", chars[n].id, a) for n, a in amounts.items()],
        occurred_at=MARCH_10,
        actor_id=officer.id,
        memo="balances of the month",
        period=period,
    )
    db.session.commit()
    ids = {n: c.id for n, c in chars.items()}
    names = {c.id: n for n, c in chars.items()}
    return {
        "clan": clan,
        "officer": officer,
        "leader": leader,
        "users": {"wind": wind, "star": star, "moon": moon},
        "ids": ids,
        "names": names,
        "period": period,
    }


def _group(purse, actor=None) -> None:
    actor = actor or purse["users"]["wind"]
    wallets.group_characters(
        db.session, actor.id, purse["clan"].id, [purse["ids"]["夜風"], purse["ids"]["夜風二號"]]
    )


def _links(preview) -> set[tuple[str, str, int, int]]:
    return {(t.payer, t.receiver, t.net, t.fee) for t in preview.transfers}


def test_without_wallets_a_player_pays_themselves(purse):
    preview = build_preview(db.session, purse["clan"], purse["period"])
    assert _links(preview) == {
        ("夜風", "夜風二號", 3705, 195),
        ("星辰", "夜風二號", 1295, 69),
        ("星辰", "月影", 705, 38),
    }
    assert preview.wallet_saving is None and preview.wallets == ()


def test_the_wallet_plan_never_transfers_inside_a_wallet_and_says_what_it_saves(purse):
    _group(purse)
    preview = build_preview(db.session, purse["clan"], purse["period"])
    assert _links(preview) == {("星辰", "夜風二號", 1295, 69), ("星辰", "月影", 705, 38)}
    saving = preview.wallet_saving
    assert (saving.character_fees, saving.character_transfers) == (302, 3)
    assert (saving.wallet_fees, saving.wallet_transfers) == (107, 2)
    assert (saving.saved_fees, saving.saved_transfers) == (195, 1)
    netting = {line.name: line.netting for line in preview.lines if line.netting}
    assert netting == {"夜風": 3705, "夜風二號": -3705}
    # the why of a transfer names the wallet by its characters
    why = next(t.why for t in preview.transfers if t.receiver == "夜風二號")
    assert {w.name for w in why} >= {"夜風 + 夜風二號", "星辰"}


def test_paying_the_plan_settles_every_character_to_zero(purse):
    clan, officer, ids = purse["clan"], purse["officer"], purse["ids"]
    _group(purse)
    march = purse["period"]
    close.confirm_close(db.session, officer.id, clan.id, march.id)
    entry = db.session.execute(
        select(JournalEntry).where(JournalEntry.kind == EntryKind.WALLET_NETTING)
    ).scalar_one()
    assert entry.memo == "wallet netting 2026-03" and sum(p.amount for p in entry.postings) == 0
    owner = {ids["夜風二號"]: "wind", ids["月影"]: "moon"}
    for row in transfers.list_transfers(db.session, officer.id, clan.id):
        t = row.transfer
        assert {t.payer_character_id, t.receiver_character_id} != {ids["夜風"], ids["夜風二號"]}
        transfers.mark_paid(db.session, purse["users"]["star"].id, clan.id, t.id)
        receiver = purse["users"][owner[t.receiver_character_id]]
        transfers.confirm_received(db.session, receiver.id, clan.id, t.id)
    ever = member_balances(db.session, clan.id)
    in_march = member_balances(db.session, clan.id, march.id)
    after_march = {k: v - in_march.get(k, 0) for k, v in ever.items()}
    assert {k: v for k, v in after_march.items() if k[0] == "member" and v} == {}
    assert sum(after_march.values()) == 0


def test_the_closed_month_keeps_the_wallet_figures(purse, client, login):
    clan, officer = purse["clan"], purse["officer"]
    _group(purse)
    close.confirm_close(db.session, officer.id, clan.id, purse["period"].id)
    _group_again = wallets.ungroup_character  # a later change does not touch a closed month
    _group_again(db.session, purse["users"]["wind"].id, clan.id, purse["ids"]["夜風二號"])
    stored = close.preview_close(db.session, officer.id, clan.id, purse["period"].id)
    assert stored.wallet_saving.saved_fees == 195
    assert {line.name: line.netting for line in stored.lines if line.netting} == {
        "夜風": 3705,
        "夜風二號": -3705,
    }
    login(officer)
    html = client.get(f"/clans/{clan.id}/periods/{purse['period'].id}").get_data(as_text=True)
    assert 'id="wallet-saving"' in html and "錢包內沖帳" in html


def test_reopen_reverses_the_netting_too(purse):
    clan, officer, leader = purse["clan"], purse["officer"], purse["leader"]
    _group(purse)
    march = purse["period"]
    close.confirm_close(db.session, officer.id, clan.id, march.id)
    close.reopen_period(db.session, leader.id, clan.id, march.id, "a sale was missed")
    april = db.session.execute(
        select(Period).where(Period.clan_id == clan.id, Period.starts_on > march.starts_on)
    ).scalar_one()
    assert {k: v for k, v in member_balances(db.session, clan.id, april.id).items() if v} == {}


def test_wallets_cannot_change_while_a_reopened_month_has_paid_transfers(purse):
    clan, officer, leader, ids = purse["clan"], purse["officer"], purse["leader"], purse["ids"]
    star = purse["users"]["star"]
    _group(purse)
    march = purse["period"]
    close.confirm_close(db.session, officer.id, clan.id, march.id)
    # a closed month's transfers never block a change: its netting is already posted
    wallets.ungroup_character(db.session, officer.id, clan.id, ids["夜風"])
    _group(purse)
    paid = transfers.list_transfers(db.session, officer.id, clan.id)[0].transfer
    transfers.mark_paid(db.session, star.id, clan.id, paid.id)
    close.reopen_period(db.session, leader.id, clan.id, march.id, "a sale was missed")
    with pytest.raises(Conflict) as refused:
        wallets.ungroup_character(db.session, purse["users"]["wind"].id, clan.id, ids["夜風"])
    assert refused.value.params["month"] == march.starts_on
    assert db.session.get(Character, ids["夜風二號"]).wallet_character_id == ids["夜風"]
    # closing again plans around the paid transfer, and wallets can change after that
    preview = close.preview_close(db.session, officer.id, clan.id, march.id)
    assert all(t.payer != t.receiver for t in preview.transfers)
    close.confirm_close(db.session, officer.id, clan.id, march.id, preview.digest)
    wallets.ungroup_character(db.session, purse["users"]["wind"].id, clan.id, ids["夜風"])


def test_a_wallet_change_after_the_officer_looked_refuses_the_close(purse):
    clan, officer = purse["clan"], purse["officer"]
    seen = close.preview_close(db.session, officer.id, clan.id, purse["period"].id)
    _group(purse)
    with pytest.raises(Conflict):
        close.confirm_close(db.session, officer.id, clan.id, purse["period"].id, seen.digest)


def test_a_wallet_groups_one_players_characters_of_one_clan(purse, make_clan, make_character):
    clan, officer, ids, users = purse["clan"], purse["officer"], purse["ids"], purse["users"]
    with pytest.raises(ValidationError):  # two players
        wallets.group_characters(db.session, officer.id, clan.id, [ids["夜風"], ids["星辰"]])
    with pytest.raises(PermissionDenied):  # not the member's own characters
        wallets.group_characters(
            db.session, users["star"].id, clan.id, [ids["夜風"], ids["夜風二號"]]
        )
    other = make_clan()
    foreign = make_character(other, users["wind"], "夜風三號")
    with pytest.raises(ValidationError):
        wallets.group_characters(db.session, users["wind"].id, clan.id, [ids["夜風"], foreign.id])
    roster = make_character(clan, None, "路人甲")
    with pytest.raises(ValidationError):
        wallets.group_characters(db.session, officer.id, clan.id, [roster.id, ids["夜風"]])
    with pytest.raises(ValidationError):
        wallets.group_characters(db.session, users["wind"].id, clan.id, [ids["夜風"]])
    assert wallets.wallet_map(db.session, clan.id) == {}


def test_taking_out_the_anchor_keeps_the_others_together(purse, make_character):
    clan, wind, ids = purse["clan"], purse["users"]["wind"], purse["ids"]
    third = make_character(clan, wind, "夜風三號")
    wallets.group_characters(db.session, wind.id, clan.id, [ids["夜風"], ids["夜風二號"], third.id])
    wallets.ungroup_character(db.session, wind.id, clan.id, ids["夜風"])
    grouped = {
        c.name: c.wallet_character_id
        for c in db.session.execute(select(Character).where(Character.user_id == wind.id))
        .scalars()
        .all()
    }
    assert grouped == {"夜風": None, "夜風二號": None, "夜風三號": ids["夜風二號"]}


# --- the pages -------------------------------------------------------------------------------


def test_a_player_groups_their_characters_on_the_wallets_page(purse, client, login):
    clan, ids, wind = purse["clan"], purse["ids"], purse["users"]["wind"]
    login(wind)
    page = client.get(f"/clans/{clan.id}/characters").get_data(as_text=True)
    assert f"/clans/{clan.id}/wallets" in page
    html = client.get(f"/clans/{clan.id}/wallets").get_data(as_text=True)
    assert "夜風二號" in html and "星辰" not in html  # a member sees only their own
    response = client.post(
        f"/clans/{clan.id}/wallets", data={"characters": [ids["夜風"], ids["夜風二號"]]}
    )
    assert response.status_code == 302
    assert wallets.wallet_map(db.session, clan.id)
    response = client.post(f"/clans/{clan.id}/wallets/{ids['夜風二號']}/leave")
    assert response.status_code == 302
    assert wallets.wallet_map(db.session, clan.id) == {}


@pytest.mark.parametrize(
    "characters",
    [["abc"], ["99999999999999999999999"], ["-1"], [], "star", "foreign"],
)
def test_bad_wallet_input_is_a_4xx_with_a_message(purse, client, login, make_clan, characters):
    clan, ids, wind = purse["clan"], purse["ids"], purse["users"]["wind"]
    if characters == "star":  # another player's character
        characters = [ids["夜風"], ids["星辰"]]
    elif characters == "foreign":  # a character of another clan
        other = make_clan()
        db.session.add(Character(clan_id=other.id, user_id=wind.id, name="夜風三號"))
        db.session.commit()
        foreign = db.session.execute(select(Character.id).where(Character.name == "夜風三號"))
        characters = [ids["夜風"], foreign.scalar_one()]
    login(wind)
    response = client.post(f"/clans/{clan.id}/wallets", data={"characters": characters})
    assert 400 <= response.status_code < 500
    assert 'id="wallet-errors"' in response.get_data(as_text=True)
    assert wallets.wallet_map(db.session, clan.id) == {}


def test_odd_ids_in_the_leave_address(purse, client, login, make_clan, make_character):
    clan, wind, ids = purse["clan"], purse["users"]["wind"], purse["ids"]
    other = make_clan()
    foreign = make_character(other, wind, "夜風三號")
    login(wind)
    assert client.post(f"/clans/{clan.id}/wallets/2147483648/leave").status_code == 404
    assert client.post(f"/clans/{clan.id}/wallets/{foreign.id}/leave").status_code == 404
    login(purse["users"]["star"])
    assert client.post(f"/clans/{clan.id}/wallets/{ids['夜風']}/leave").status_code == 403


def test_an_officer_corrects_a_wallet_and_the_audit_log_says_so(
    purse, client, login, make_character
):
    clan, ids, officer = purse["clan"], purse["ids"], purse["officer"]
    make_character(clan, purse["users"]["star"], "星辰二號")
    login(officer)
    html = client.get(f"/clans/{clan.id}/wallets").get_data(as_text=True)
    # officers see every player with characters to group (月影 has only one)
    assert "夜風二號" in html and "星辰二號" in html and "月影" not in html
    response = client.post(
        f"/clans/{clan.id}/wallets", data={"characters": [ids["夜風"], ids["夜風二號"]]}
    )
    assert response.status_code == 302
    row = (
        db.session.execute(
            select(AuditLog).where(
                AuditLog.entity_type == "Character", AuditLog.entity_id == ids["夜風二號"]
            )
        )
        .scalars()
        .all()[-1]
    )
    assert row.actor_id == officer.id and row.after["wallet_character_id"] == ids["夜風"]
    audit = client.get(f"/clans/{clan.id}/audit?type=Character").get_data(as_text=True)
    assert "共用錢包的角色" in audit and "夜風" in audit


def test_another_clans_wallets_are_404(purse, client, login, make_user, make_clan):
    stranger = make_user()
    make_clan(leader=stranger)
    login(stranger)
    clan = purse["clan"]
    assert client.get(f"/clans/{clan.id}/wallets").status_code == 404
    assert client.post(f"/clans/{clan.id}/wallets", data={"characters": [1, 2]}).status_code == 404
    assert client.get(f"/clans/{clan.id}/plan").status_code == 404


def test_the_member_plan_shows_only_the_readers_transfers(purse, client, login):
    clan, ids = purse["clan"], purse["ids"]
    _group(purse)
    login(purse["users"]["moon"])
    dashboard = client.get(f"/clans/{clan.id}/").get_data(as_text=True)
    assert f"/clans/{clan.id}/plan" in dashboard
    html = client.get(f"/clans/{clan.id}/plan").get_data(as_text=True)
    assert "你用 月影 收款" in html and "743" in html  # listed at 743, bought by 星辰
    assert "星辰" in html and "夜風" not in html  # nobody else's transfer or balance
    assert "1,295" not in html and "3,705" not in html
    assert "Review and close" not in html and "檢查並月結" not in html  # no confirm for members
    assert 'id="plan-saving"' in html
    login(purse["users"]["wind"])
    html = client.get(f"/clans/{clan.id}/plan").get_data(as_text=True)
    assert "你用 夜風二號 收款" in html and 'id="my-netting-note"' in html
    assert "月影" not in html
    login(purse["officer"])
    html = client.get(f"/clans/{clan.id}/plan").get_data(as_text=True)
    assert "檢查並月結" in html and ids["夜風"]


def test_the_statement_reads_the_wallet_netting(purse, client, login):
    clan, officer, wind = purse["clan"], purse["officer"], purse["users"]["wind"]
    _group(purse)
    close.confirm_close(db.session, officer.id, clan.id, purse["period"].id)
    login(wind)
    april = db.session.execute(
        select(Period).where(
            Period.clan_id == clan.id, Period.starts_on > purse["period"].starts_on
        )
    ).scalar_one()
    html = client.get(
        f"/clans/{clan.id}/statement/{purse['ids']['夜風']}?period={april.id}"
    ).get_data(as_text=True)
    assert "錢包內移轉（免手續費）" in html or "錢包內沖帳" in html
    assert "wallet netting" not in html


def test_a_backup_keeps_the_wallets(purse, tmp_path, make_character):
    """A wallet points at its lowest id, so restoring characters in id order never points
    at a character not restored yet (SQLite, then PostgreSQL when it is the test database)."""
    clan, wind, ids = purse["clan"], purse["users"]["wind"], purse["ids"]
    third = make_character(clan, wind, "夜風三號")
    wallets.group_characters(db.session, wind.id, clan.id, [ids["夜風二號"], third.id])
    wallets.group_characters(db.session, wind.id, clan.id, [ids["夜風"], third.id])
    assert wallets.wallet_map(db.session, clan.id) == {member(third.id): member(ids["夜風"])}
    close.confirm_close(db.session, purse["officer"].id, clan.id, purse["period"].id)
    data = backup.backup_clan(db.session.connection(), clan.id)
    again, _ = restore_and_read_back(f"sqlite:///{tmp_path / 'restored.sqlite3'}", data, clan.id)
    assert again == data
    pg = postgres_restore_url()
    if pg is not None:
        via_pg, _ = restore_and_read_back(pg, again, clan.id)
        assert via_pg == data


def test_the_close_command_prints_the_netting_and_the_wallet_saving(purse, app):
    _group(purse)
    clan = purse["clan"]
    result = app.test_cli_runner().invoke(
        args=["close-period", "--clan", clan.id, "--month", "2026-03", "--as", "officer",
              "--dry-run"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "wallet netting: 夜風 +3705" in result.output
    assert "Wallets save 195 diamonds of fees and 1 transfer:" in result.output


@pytest.mark.parametrize("threshold", [0, 600])
def test_the_treasurers_wallet_holds_the_fund_and_carries_on_its_trader(
    make_user, make_clan, add_member, make_character, threshold
):
    """The leader's two characters share a wallet; the first (the treasurer) holds the
    fund's 300. Balances L1 +100, L2 -900, fund +300, X +500: the wallet owes 500 and pays
    it from L2 (its most indebted character). Under a threshold of 600 nothing moves and the
    wallet's -500 is carried on L2. Either way L1 ends holding the fund (-300)."""
    leader, other = make_user("leader"), make_user("other")
    clan = make_clan(leader=leader, carry_threshold=threshold)
    add_member(clan, other)
    l1, l2 = make_character(clan, leader, "L1"), make_character(clan, leader, "L2")
    x = make_character(clan, other, "X")
    period = period_for_day(db.session, clan, MARCH_10.date())
    post_entry(
        db.session,
        clan,
        kind=EntryKind.ADJUSTMENT,
        lines=[
            PostingLine("member", l1.id, 100),
            PostingLine("member", l2.id, -900),
            PostingLine("fund", None, 300),
            PostingLine("member", x.id, 500),
        ],
        occurred_at=MARCH_10,
        actor_id=leader.id,
        period=period,
    )
    db.session.commit()
    wallets.group_characters(db.session, leader.id, clan.id, [l1.id, l2.id])
    preview = build_preview(db.session, clan, period)
    assert {line.name: line.netting for line in preview.lines if line.netting} == {
        "L1": -400,
        "L2": 400,
    }
    close.confirm_close(db.session, leader.id, clan.id, period.id)
    for row in transfers.list_transfers(db.session, leader.id, clan.id):
        assert (row.payer, row.receiver, row.transfer.net) == ("L2", "X", 500)
        transfers.mark_paid(db.session, leader.id, clan.id, row.transfer.id)
        transfers.confirm_received(db.session, other.id, clan.id, row.transfer.id)
    ever = member_balances(db.session, clan.id)
    in_march = member_balances(db.session, clan.id, period.id)
    after = {k: v - in_march.get(k, 0) for k, v in ever.items() if v - in_march.get(k, 0)}
    carried = {("member", l2.id): -500, ("member", x.id): 500} if threshold else {}
    assert after == {("member", l1.id): -300, ("fund", None): 300, **carried}


def test_a_wallet_plan_costing_more_fees_is_shown_as_a_cost(purse, client, login):
    """Rare (the planner minimises transfers, not fees), but shown plainly when it happens:
    a closed month whose stored figures say the wallet plan kept 12 more in fees."""
    clan, officer, march = purse["clan"], purse["officer"], purse["period"]
    _group(purse)
    close.confirm_close(db.session, officer.id, clan.id, march.id)
    figures = dict(db.session.get(Period, march.id).close_figures)
    figures["wallet_saving"] = {
        "character_fees": 100,
        "character_transfers": 3,
        "wallet_fees": 112,
        "wallet_transfers": 2,
    }
    db.session.get(Period, march.id).close_figures = figures
    db.session.commit()
    login(officer)
    html = client.get(f"/clans/{clan.id}/periods/{march.id}").get_data(as_text=True)
    assert 'data-testid="wallet-cost"' in html and "本月逐錢包沖帳反而多花手續費" in html
    assert "手續費 12" in html and "少 1 筆轉帳" in html


def test_the_member_plan_of_a_clan_with_nothing_to_settle(client, login, make_user, make_clan):
    leader = make_user()
    clan = make_clan(leader=leader)
    login(leader)
    response = client.get(f"/clans/{clan.id}/plan")
    assert response.status_code == 200 and 'id="plan-empty"' in response.get_data(as_text=True)
