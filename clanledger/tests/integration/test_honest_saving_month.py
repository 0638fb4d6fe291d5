"""Finding 4: the "netting saves" figure was wrong outside the simple case: after a reopen
and re-close it ignored the transfers already paid; a month with only carried balances
showed a negative saving in large green type; a balance carried under the threshold
counted as a saving. (March of test_close_month: per-sale fees 122; plan B->A 37, D->C 54,
D->E 5.)"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from test_close_month import month

from clanledger.extensions import db
from clanledger.models import Transfer
from clanledger.services import close, transfers
from clanledger.services.close_preview import build_preview
from clanledger.services.periods import next_period

__all__ = ["month"]


def test_transfers_paid_before_a_reopen_count_against_the_saving(month):
    clan, officer, leader, players = (
        month["clan"],
        month["officer"],
        month["leader"],
        month["players"],
    )
    march = month["period"]
    close.confirm_close(db.session, officer.id, clan.id, march.id)
    assert close.preview_close(db.session, officer.id, clan.id, march.id).savings.saved == 26
    ba = db.session.execute(
        select(Transfer).where(Transfer.payer_character_id == month["ids"]["B"])
    ).scalar_one()
    transfers.mark_paid(db.session, players["B"].id, clan.id, ba.id)
    close.reopen_period(db.session, leader.id, clan.id, march.id, "a late sale")
    reopened = close.preview_close(db.session, officer.id, clan.id, march.id).savings
    assert (reopened.plan_fees, reopened.paid_fees, reopened.paid_transfers) == (59, 37, 1)
    assert reopened.saved == 26  # not 122 - 59 = 63: B's paid transfer settles March too
    close.confirm_close(db.session, officer.id, clan.id, march.id)
    assert close.preview_close(db.session, officer.id, clan.id, march.id).savings.saved == 26


def test_a_balance_carried_under_the_threshold_is_not_a_saving(month):
    clan, officer, march = month["clan"], month["officer"], month["period"]
    clan.carry_threshold = 100  # E's 80 (and D's last 80) carry forward
    db.session.commit()
    savings = close.preview_close(db.session, officer.id, clan.id, march.id).savings
    assert savings.plan_fees == 37 + 54 and savings.carried_out_fees == 5
    assert savings.saved == 26  # not 122 - 91 = 31


def test_a_month_of_carried_balances_only_is_no_loss(month):
    clan, officer, march = month["clan"], month["officer"], month["period"]
    clan.carry_threshold = 100
    db.session.commit()
    close.confirm_close(db.session, officer.id, clan.id, march.id)
    clan.carry_threshold = 0  # April settles the 80 carried in: D -> E, fee 5
    db.session.commit()
    april = next_period(db.session, clan, march)
    savings = build_preview(db.session, clan, april).savings
    assert (savings.per_sale_fees, savings.plan_fees, savings.carried_in_fees) == (0, 5, 5)
    assert savings.saved == 0  # not -5


def test_a_negative_figure_is_shown_as_a_cost_in_neutral_colours(month, client, login, monkeypatch):
    clan, officer, march = month["clan"], month["officer"], month["period"]
    real = close.preview_close

    def costly(*args, **kwargs):
        preview = real(*args, **kwargs)
        return replace(preview, savings=replace(preview.savings, saved=-7))

    monkeypatch.setattr(close, "preview_close", costly)
    login(officer)
    page = client.get(f"/clans/{clan.id}/periods/{march.id}").get_data(as_text=True)
    saving = page[page.index('id="saving"') - 80 : page.index('id="saving-definition"')]
    assert 'data-testid="cost">7<' in saving and "text-success" not in saving
    assert "合併結算多花" in saving and 'id="saving-cost-reason"' in saving
    assert "結轉不算節省" in page  # the definition is on the page
