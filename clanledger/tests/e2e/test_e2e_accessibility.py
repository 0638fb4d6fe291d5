"""Accessibility: axe-core (bundled with axe-playwright-python, no network) finds no serious or
critical violation on the main pages, for a leader and for a member, in Traditional Chinese on
a 390 x 844 phone screen; and for the leader in the dark colour mode."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from clanledger.extensions import db
from clanledger.models import Drop, Kill, Period, User
from clanledger.services import close
from clanledger.services.demo import DEMO_LEADER, DEMO_PASSWORD, seed_demo

pytestmark = pytest.mark.browser
axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")

PHONE = {"width": 390, "height": 844}
BLOCKING = ("serious", "critical")


@pytest.fixture
def demo_clan(app):
    """The demo clan (kills, items in every state) with its first month closed (transfers)."""
    result = seed_demo(db.session, members=12)
    clan_id = result.clan_id
    first = db.session.execute(
        select(Period.id).where(Period.clan_id == clan_id).order_by(Period.starts_on).limit(1)
    ).scalar_one()
    leader = db.session.execute(select(User.id).where(User.username == DEMO_LEADER)).scalar_one()
    close.confirm_close(db.session, leader, clan_id, first)
    kill = db.session.execute(select(Kill.id).where(Kill.clan_id == clan_id).limit(1))
    drop = db.session.execute(select(Drop.id).where(Drop.clan_id == clan_id).limit(1))
    period = db.session.execute(
        select(Period.id).where(Period.clan_id == clan_id).order_by(Period.starts_on).limit(1)
    )
    return clan_id, kill.scalar_one(), drop.scalar_one(), period.scalar_one()


def _pages(clan_id: int, kill_id: int, drop_id: int, period_id: int) -> list[str]:
    clan = f"/clans/{clan_id}"
    return [
        "/",
        f"{clan}/",
        f"{clan}/kills",
        f"{clan}/kills/new",
        f"{clan}/kills/{kill_id}",
        f"{clan}/drops",
        f"{clan}/drops/{drop_id}",
        f"{clan}/transfers?state=all",
        f"{clan}/statement",
        f"{clan}/statements",
        f"{clan}/periods",
        f"{clan}/periods/{period_id}",
        f"{clan}/export",
        f"{clan}/characters",
        f"{clan}/members",
        f"{clan}/audit",
        f"{clan}/settings",
        f"{clan}/bosses",
    ]


def _sign_in(page, username: str) -> None:
    page.goto("/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form:has(input[name=username]) [type=submit]").click()
    page.wait_for_load_state()


def _violations(page, axe, path: str) -> list[str]:
    response = page.goto(path)
    assert response is not None and response.status < 500, path
    assert page.evaluate("document.documentElement.lang").startswith("zh-Hant"), path
    found = axe.run(page).response["violations"]
    return [
        f"{path} [{v['impact']}] {v['id']}: {v['help']} <- "
        + "; ".join(node["html"][:90] for node in v["nodes"][:3])
        for v in found
        if v["impact"] in BLOCKING
    ]


def test_no_serious_violation_for_a_leader_or_a_member(demo_clan, new_page, screenshot):
    axe = axe_sync.Axe()
    pages = _pages(*demo_clan)
    anonymous = new_page(PHONE, is_mobile=True, has_touch=True)
    problems = [
        problem
        for path in ("/auth/login", "/auth/register")
        for problem in _violations(anonymous, axe, path)
    ]
    for username, scheme in ((DEMO_LEADER, "light"), ("member03", "light"), (DEMO_LEADER, "dark")):
        phone = new_page(PHONE, is_mobile=True, has_touch=True, color_scheme=scheme)
        _sign_in(phone, username)
        problems += [
            f"{username} {scheme}: {p}" for path in pages for p in _violations(phone, axe, path)
        ]
        if username == DEMO_LEADER:  # the pages the lists and the colours changed most
            for name in ("transfers", "audit"):
                phone.goto(next(path for path in pages if f"/{name}" in path))
                screenshot(phone, f"a11y-{name}-{scheme}-zh_Hant")
    assert problems == [], "\n".join(problems)
