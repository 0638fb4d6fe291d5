"""Finding 3: an officer could mark their own transfer paid and then confirm it received
themselves, so the receiver's balance dropped without the receiver doing anything. A
transfer is confirmed by its receiver's player; an officer may confirm for the receiver
only with a reason, never a transfer they pay themselves; both cases are audited."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from clanledger.extensions import db
from clanledger.models import (
    AuditLog,
    EntryKind,
    JournalEntry,
    Role,
    Transfer,
    TransferStatus,
)
from clanledger.services import close, transfers
from clanledger.services.errors import PermissionDenied, ValidationError
from clanledger.services.journal import PostingLine, post_entry
from clanledger.services.periods import period_for_day


@pytest.fixture
def owed(make_user, make_clan, add_member, make_character):
    """March: the officer's character O owes the leader's A 1000; member M owes the roster
    character R (no player) 500. The close plans O -> A and M -> R."""
    leader, officer, member = make_user(), make_user(), make_user()
    clan = make_clan(leader=leader)
    add_member(clan, officer, Role.OFFICER)
    add_member(clan, member)
    a, o = make_character(clan, leader, "A"), make_character(clan, officer, "O")
    m, r = make_character(clan, member, "M"), make_character(clan, None, "R")
    period = period_for_day(db.session, clan, date(2026, 3, 1))
    post_entry(
        db.session,
        clan,
        kind=EntryKind.ADJUSTMENT,
        lines=[
            PostingLine("member", a.id, 1000),
            PostingLine("member", o.id, -1000),
            PostingLine("member", r.id, 500),
            PostingLine("member", m.id, -500),
        ],
        occurred_at=datetime(2026, 3, 10, tzinfo=UTC),
        actor_id=officer.id,
        reason="loans",
    )
    db.session.commit()
    close.confirm_close(db.session, officer.id, clan.id, period.id)
    by_payer = {
        t.payer_character_id: t for t in db.session.execute(select(Transfer)).scalars().all()
    }
    return {
        "clan": clan,
        "leader": leader,
        "officer": officer,
        "member": member,
        "own": by_payer[o.id],
        "roster": by_payer[m.id],
    }


def _transfer_entries() -> int:
    return (
        db.session.execute(select(JournalEntry).where(JournalEntry.kind == EntryKind.TRANSFER))
        .all()
        .__len__()
    )


def test_an_officer_cannot_confirm_a_transfer_they_paid(owed):
    clan, officer, own = owed["clan"], owed["officer"], owed["own"]
    transfers.mark_paid(db.session, officer.id, clan.id, own.id)
    for reason in (None, "I really paid"):
        with pytest.raises(PermissionDenied):
            transfers.confirm_received(db.session, officer.id, clan.id, own.id, reason)
        db.session.rollback()
    assert db.session.get(Transfer, own.id).status == TransferStatus.PAID
    assert _transfer_entries() == 0
    # The receiver's player confirms it, and the audit log names them.
    transfers.confirm_received(db.session, owed["leader"].id, clan.id, own.id)
    assert db.session.get(Transfer, own.id).status == TransferStatus.CONFIRMED
    logged = db.session.execute(
        select(AuditLog).where(AuditLog.entity_type == "Transfer", AuditLog.entity_id == own.id)
    ).scalars()
    assert owed["leader"].id in {row.actor_id for row in logged if row.action == "update"}


def test_a_member_who_is_not_the_receiver_cannot_confirm(owed):
    clan, roster = owed["clan"], owed["roster"]
    with pytest.raises(PermissionDenied):
        transfers.confirm_received(db.session, owed["member"].id, clan.id, roster.id, "paid")
    db.session.rollback()
    assert _transfer_entries() == 0


def test_an_officer_confirms_for_the_receiver_only_with_a_reason_that_is_audited(owed):
    clan, officer, roster = owed["clan"], owed["officer"], owed["roster"]
    with pytest.raises(ValidationError) as missing:
        transfers.confirm_received(db.session, officer.id, clan.id, roster.id, "  ")
    assert missing.value.field == "reason"
    db.session.rollback()
    transfers.confirm_received(db.session, officer.id, clan.id, roster.id, "R 沒有帳號，遊戲內確認")
    entry = db.session.execute(
        select(JournalEntry).where(JournalEntry.kind == EntryKind.TRANSFER)
    ).scalar_one()
    assert entry.reason == "R 沒有帳號，遊戲內確認" and entry.created_by_id == officer.id
    logged = db.session.execute(
        select(AuditLog).where(
            AuditLog.entity_type == "JournalEntry", AuditLog.entity_id == entry.id
        )
    ).scalar_one()
    assert logged.actor_id == officer.id
    assert logged.after["reason"] == "R 沒有帳號，遊戲內確認"


def test_the_transfers_page_offers_no_confirm_for_your_own_payment(client, login, owed):
    clan, officer, own, roster = owed["clan"], owed["officer"], owed["own"], owed["roster"]
    transfers.mark_paid(db.session, officer.id, clan.id, own.id)
    login(officer)
    page = client.get(f"/clans/{clan.id}/transfers").get_data(as_text=True)
    assert f"/transfers/{own.id}/confirm" not in page
    assert f"/transfers/{roster.id}/confirm" in page and f'id="reason-{roster.id}"' in page
    response = client.post(f"/clans/{clan.id}/transfers/{own.id}/confirm", data={})
    assert response.status_code == 302
    assert db.session.get(Transfer, own.id).status == TransferStatus.PAID
    shown = client.get(f"/clans/{clan.id}/transfers").get_data(as_text=True)
    assert "你不能替別人確認" in shown
