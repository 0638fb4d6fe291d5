"""The whole sign-up flow in chromium: a leader registers and creates a clan, a second
player joins through the invite link on a phone, the leader approves, the player switches
to English. Screenshots go to clanledger/artifacts/."""

from __future__ import annotations

from sqlalchemy import select

from clanledger.extensions import db
from clanledger.models import Clan, Membership, Role, User

PASSWORD = "a long password 1"


def _register(page, username: str, display_name: str) -> None:
    page.fill("#username", username)
    page.fill("#display_name", display_name)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.click("#submit")


def test_register_create_clan_join_by_link_approve_and_switch_language(
    live_server, new_page, screenshot
):
    leader = new_page()
    leader.goto("/")
    leader.click("text=建立帳號")
    _register(leader, "leader", "盟主夜風")
    leader.wait_for_url(live_server.url("/"))
    assert leader.locator("h1").inner_text() == "我的血盟"

    leader.click("text=建立血盟")
    leader.fill("#name", "星辰血盟")
    leader.fill("#server", "肯特01")
    leader.fill("#fee_percent", "5")
    leader.click("#submit")
    leader.wait_for_selector("#invite-link")
    invite_link = leader.input_value("#invite-link")
    assert "/join/" in invite_link
    screenshot(leader, "accounts-invite-zh")

    # The second player opens the link on a phone, is sent to sign in, registers instead.
    player = new_page({"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    player.goto(invite_link)
    assert "/auth/login" in player.url
    player.click("main >> text=註冊")
    _register(player, "player2", "小華")
    player.wait_for_selector("#ask-to-join")
    assert "星辰血盟" in player.inner_text("main")
    player.click("#ask-to-join")
    player.wait_for_selector(".alert-success")
    assert "等待核准" in player.inner_text("main")

    # The leader approves the request from the member list.
    clan = db.session.execute(select(Clan)).scalar_one()
    leader.goto(f"/clans/{clan.id}/members")
    requests = leader.locator("#join-requests")
    assert "小華" in requests.inner_text()
    requests.locator("button", has_text="核准").click()
    leader.wait_for_selector(".alert-success")
    assert "小華" in leader.inner_text("#members")
    screenshot(leader, "accounts-members-zh")

    player_user = db.session.execute(select(User).where(User.username == "player2")).scalar_one()
    membership = db.session.execute(
        select(Membership).where(Membership.user_id == player_user.id)
    ).scalar_one()
    assert (membership.status, membership.role) == ("active", Role.MEMBER)

    # The player sees the clan, opens it, and switches the language to English.
    player.goto("/")
    player.click("main >> text=星辰血盟")
    player.wait_for_url(f"**/clans/{clan.id}/**")
    player.click(".clan-nav >> text=成員")  # the clan sections strip scrolls sideways
    player.wait_for_selector("#members")
    screenshot(player, "accounts-members-phone-zh")
    player.click("button.navbar-toggler")
    player.click("button[value=en]")
    player.wait_for_selector("html[lang=en]")
    assert player.locator("h1").first.inner_text().startswith("Members")
    db.session.refresh(player_user)
    assert player_user.locale == "en"
    screenshot(player, "accounts-members-phone-en")
