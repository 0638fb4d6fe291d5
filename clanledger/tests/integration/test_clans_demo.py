"""``flask seed-demo``: a demo clan of ~30 members with characters, created once."""

from __future__ import annotations

from sqlalchemy import func, select

from clanledger.extensions import db
from clanledger.models import Character, Clan, Membership, Role
from clanledger.services import accounts, demo


def _count(model, *where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_seed_demo_creates_the_clan_once_and_prints_a_login(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo", "--members", "30"])
    assert first.exit_code == 0, first.output
    assert (
        "created" in first.output and "'demo'" in first.output and "demo-password" in first.output
    )
    clan = demo.find_demo_clan(db.session)
    active = (Membership.clan_id == clan.id, Membership.status == "active")
    assert _count(Membership, *active) == 29  # the 30th is a pending join request
    assert _count(Membership, *active, Membership.role == Role.OFFICER) == 2
    assert _count(Character, Character.clan_id == clan.id) >= 31  # mains, alts, roster
    assert _count(Character, Character.clan_id == clan.id, Character.user_id.is_(None)) == 2
    assert accounts.authenticate(db.session, "demo", demo.DEMO_PASSWORD) is not None

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "already exists" in again.output
    assert _count(Clan) == 1


def test_if_empty_leaves_a_database_with_real_data_alone(app, make_clan):
    make_clan()
    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0 and result.output == ""
    assert demo.find_demo_clan(db.session) is None


def test_if_empty_seeds_a_fresh_database(app):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0 and "created" in result.output
    assert demo.find_demo_clan(db.session) is not None


def test_seed_demo_refuses_a_clan_of_one(app):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--members", "1"])
    assert result.exit_code != 0 and "at least 2" in result.output
