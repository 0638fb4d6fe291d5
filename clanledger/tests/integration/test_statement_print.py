"""Finding 7: the printable statement filed transfers under the wrong heading, doubled an
opening balance after a reopen (1,362 for a real 681), and the officers' "still to pay"
counted transfers already marked paid. The sheet's totals add up to the ledger's balance
after a close, a reopen and a partial payment."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from test_close_month import month

from clanledger.extensions import db
from clanledger.models import EntryKind, Posting
from clanledger.services import close, exports, statements, transfers
from clanledger.services.journal import PostingLine, post_entry
from clanledger.services.periods import next_period

__all__ = ["month"]


def _real(character_id: int, period_id: int) -> int:
    return db.session.execute(
        select(func.coalesce(func.sum(Posting.amount), 0)).where(
            Posting.character_id == character_id, Posting.period_id == period_id
        )
    ).scalar_one()


def _check(sheet, character_id: int, period_id: int, opening: int) -> None:
    assert sheet.opening == opening
    assert sheet.opening + sheet.credits + sheet.debits == sheet.closing
    assert sheet.closing == _real(character_id, period_id)
    assert sheet.lines == [] or sheet.lines[-1].running == sheet.closing
    assert all(line.kind.value not in ("opening",) for line in sheet.lines)


def test_the_printable_statement_adds_up_after_close_reopen_and_partial_payment(month):
    clan, officer, leader, ids = month["clan"], month["officer"], month["leader"], month["ids"]
    players, march = month["players"], month["period"]
    close.confirm_close(db.session, officer.id, clan.id, march.id)
    april = next_period(db.session, clan, march).id
    sheet = exports.printable_statement(db.session, leader.id, clan.id, ids["A"], april)
    opening_a = _real(ids["A"], april)
    assert opening_a != 0
    _check(sheet, ids["A"], april, opening_a)

    close.reopen_period(db.session, leader.id, clan.id, march.id, "a late sale")
    close.confirm_close(db.session, officer.id, clan.id, march.id)
    sheet = exports.printable_statement(db.session, leader.id, clan.id, ids["A"], april)
    _check(sheet, ids["A"], april, opening_a)  # not twice the opening
    assert (sheet.credits, sheet.debits) == (0, 0)  # a reopen and re-close move nothing

    # Partial payment: B pays A; D's two transfers stay open.
    ba = next(
        r.transfer
        for r in transfers.list_transfers(db.session, officer.id, clan.id)
        if r.payer == "B"
    )
    transfers.mark_paid(db.session, players["B"].id, clan.id, ba.id)
    assert transfers.outstanding_by_member(db.session, officer.id, clan.id) == {"D": 1074 + 85}
    transfers.confirm_received(db.session, leader.id, clan.id, ba.id)
    payer = exports.printable_statement(db.session, players["B"].id, clan.id, None, april)
    _check(payer, ids["B"], april, -700)
    # B paid 737 (a credit) and bore the exchange fee of 37 (a debit): settled.
    assert (payer.credits, payer.debits, payer.closing) == (737, -37, 0)
    receiver = exports.printable_statement(db.session, leader.id, clan.id, ids["A"], april)
    _check(receiver, ids["A"], april, opening_a)
    assert receiver.debits == -700 and receiver.credits == 0  # A received: a debit


def test_the_printed_sheet_shows_the_opening_first_and_headings_by_sign(client, login, month):
    clan, officer, leader, players = (
        month["clan"],
        month["officer"],
        month["leader"],
        month["players"],
    )
    march = month["period"]
    close.confirm_close(db.session, officer.id, clan.id, march.id)
    close.reopen_period(db.session, leader.id, clan.id, march.id, "a late sale")
    close.confirm_close(db.session, officer.id, clan.id, march.id)
    april = next_period(db.session, clan, march).id
    ba = next(
        r.transfer
        for r in transfers.list_transfers(db.session, officer.id, clan.id)
        if r.payer == "B"
    )
    transfers.mark_paid(db.session, players["B"].id, clan.id, ba.id)
    transfers.confirm_received(db.session, leader.id, clan.id, ba.id)
    login(players["B"])
    page = client.get(f"/clans/{clan.id}/export/statement/print?period={april}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    table = text[text.index("<tbody>") :]
    assert table.index('id="statement-opening"') < table.index("轉帳 #1")  # opening first
    assert "-1,400" not in text  # the opening is not counted twice
    credits_row = text[text.index("加項（分紅、你付出的轉帳）") :][:200]
    assert "+737" in credits_row
    debits_row = text[text.index("減項（你賣出的物品、你收到的轉帳）") :][:200]
    assert "-37" in debits_row


def test_still_to_pay_leaves_out_transfers_marked_paid(client, login, month):
    clan, officer, players = month["clan"], month["officer"], month["players"]
    close.confirm_close(db.session, officer.id, clan.id, month["period"].id)
    rows = transfers.list_transfers(db.session, officer.id, clan.id)
    assert transfers.outstanding_by_member(db.session, officer.id, clan.id) == {
        "B": 737,
        "D": 1074 + 85,
    }
    ba = next(r.transfer for r in rows if r.payer == "B")
    transfers.mark_paid(db.session, players["B"].id, clan.id, ba.id)
    assert transfers.outstanding_by_member(db.session, officer.id, clan.id) == {"D": 1159}


def test_my_statement_opens_with_the_opening_balance(month, client, login):
    clan, officer, players, ids = month["clan"], month["officer"], month["players"], month["ids"]
    march = month["period"]
    close.confirm_close(db.session, officer.id, clan.id, march.id)
    april = next_period(db.session, clan, march)
    post_entry(  # dated before the opening entry, which is dated when the close ran
        db.session,
        clan,
        kind=EntryKind.ADJUSTMENT,
        lines=[PostingLine("member", ids["B"], 50), PostingLine("member", ids["C"], -50)],
        occurred_at=datetime(2026, 4, 2, tzinfo=UTC),
        actor_id=officer.id,
        reason="loan",
    )
    db.session.commit()
    stmt = statements.statement(db.session, players["B"].id, clan.id, None, april.id)
    assert stmt.lines[0].kind == EntryKind.OPENING and stmt.lines[0].running == -700
    assert (stmt.opening, stmt.credits, stmt.debits, stmt.balance) == (-700, 50, 0, -650)
    login(players["B"])
    page = client.get(f"/clans/{clan.id}/statement?period={april.id}").get_data(as_text=True)
    assert 'id="statement-opening">-700<' in page
