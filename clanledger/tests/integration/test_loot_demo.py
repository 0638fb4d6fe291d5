"""The demo month: every item state present, the ledger balanced, pages render."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from clanledger.extensions import db
from clanledger.models import JournalEntry, Posting
from clanledger.services.demo_loot import seed_loot


def test_demo_month_has_every_state_and_balances(
    make_user, make_clan, add_member, make_character, login, client
):
    leader = make_user()
    clan = make_clan(leader=leader)
    for i in range(30):
        user = make_user()
        add_member(clan, user)
        make_character(clan, user if i < 26 else None, f"demo{i:02d}")
    now = datetime(2026, 11, 28, 15, tzinfo=UTC)
    summary = seed_loot(db.session, leader.id, clan.id, now=now)
    assert summary.kills == 40
    assert 80 <= summary.drops <= 130
    assert all(summary.by_status[s] > 0 for s in summary.by_status), summary.by_status
    assert db.session.execute(select(func.sum(Posting.amount))).scalar_one() == 0
    reversals = db.session.execute(
        select(func.count(JournalEntry.id)).where(JournalEntry.reverses_id.is_not(None))
    ).scalar_one()
    assert reversals >= 2
    login(leader)
    for url in ("/", "/kills", "/drops?status=all", "/statements"):
        assert client.get(f"/clans/{clan.id}{url}").status_code == 200, url
