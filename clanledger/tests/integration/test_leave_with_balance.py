"""Finding 6: a member with an open balance and a planned transfer could leave the clan with
no warning. Leaving with a balance or an unpaid transfer is refused with a message saying
what to settle; an officer can still remove the member with a reason (audited), and the
balance stays in the ledger."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from test_close_month import month

from clanledger.extensions import db
from clanledger.i18n import service_message
from clanledger.models import AuditLog, Membership, MembershipStatus, Posting, TransferStatus
from clanledger.services import close, memberships, transfers
from clanledger.services.errors import Conflict, ValidationError

__all__ = ["month"]


def _membership(clan_id: int, user_id: int) -> Membership:
    return db.session.execute(
        select(Membership).where(Membership.clan_id == clan_id, Membership.user_id == user_id)
    ).scalar_one()


def test_a_member_with_a_balance_cannot_leave_until_it_is_settled(month, app):
    clan, officer, players = month["clan"], month["officer"], month["players"]
    e = players["E"]  # +80 from the March sales
    with pytest.raises(Conflict) as open_balance:
        memberships.leave_clan(db.session, e.id, clan.id)
    db.session.rollback()
    assert open_balance.value.params == {"balance": 80, "transfers": 0, "owed": 0}
    with app.test_request_context():
        assert service_message(open_balance.value).startswith("請先結清：還有 80 鑽的餘額")

    close.confirm_close(db.session, officer.id, clan.id, month["period"].id)
    with pytest.raises(Conflict) as planned:  # April opens with the 80, D -> E is planned
        memberships.leave_clan(db.session, e.id, clan.id)
    db.session.rollback()
    assert planned.value.params == {"balance": 80, "transfers": 1, "owed": 85}
    row = next(
        r for r in transfers.list_transfers(db.session, officer.id, clan.id) if r.receiver == "E"
    )
    transfers.mark_paid(db.session, players["D"].id, clan.id, row.transfer.id)
    transfers.confirm_received(db.session, e.id, clan.id, row.transfer.id)
    assert db.session.get(type(row.transfer), row.transfer.id).status == TransferStatus.CONFIRMED
    memberships.leave_clan(db.session, e.id, clan.id)
    assert _membership(clan.id, e.id).status == MembershipStatus.REMOVED


def test_an_officer_removes_a_member_with_a_balance_only_with_a_reason(month):
    clan, officer, players, ids = month["clan"], month["officer"], month["players"], month["ids"]
    target = _membership(clan.id, players["D"].id)  # D owes 1100
    with pytest.raises(ValidationError) as missing:
        memberships.remove_member(db.session, officer.id, clan.id, target.id)
    db.session.rollback()
    assert missing.value.field == "reason"
    before = db.session.execute(
        select(func.sum(Posting.amount)).where(Posting.character_id == ids["D"])
    ).scalar_one()
    memberships.remove_member(
        db.session, officer.id, clan.id, target.id, "不再上線，欠款轉盟主處理"
    )
    removed = _membership(clan.id, players["D"].id)
    assert removed.status == MembershipStatus.REMOVED
    assert removed.removal_reason == "不再上線，欠款轉盟主處理"
    after = db.session.execute(
        select(func.sum(Posting.amount)).where(Posting.character_id == ids["D"])
    ).scalar_one()
    assert before == after == -1100  # the balance stays in the ledger
    logged = db.session.execute(
        select(AuditLog).where(
            AuditLog.entity_type == "Membership", AuditLog.entity_id == target.id
        )
    ).scalars()
    assert any((r.after or {}).get("removal_reason") == removed.removal_reason for r in logged)


def test_the_leave_button_says_what_to_settle(client, login, month):
    clan, e = month["clan"], month["players"]["E"]
    login(e)
    response = client.post(f"/clans/{clan.id}/leave", follow_redirects=True)
    assert "請先結清：還有 80 鑽的餘額" in response.get_data(as_text=True)
    assert _membership(clan.id, e.id).status == MembershipStatus.ACTIVE
