"""Finding 5: after a close, saving a fee rate effective on the month's last day changed the
closed month's page (fee 5 % -> 7 %, per-sale fees and saving recomputed) while its stored
transfers still used 5 %. The close stores what it showed; a closed month's pages read
those figures, and a rate may not start inside a closed month."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest
from test_close_month import month

from clanledger.extensions import db
from clanledger.i18n import service_message
from clanledger.models import ClanRate, RateKind
from clanledger.services import clans, close
from clanledger.services.close_preview import period_savings
from clanledger.services.errors import ValidationError

__all__ = ["month"]


def _shown(preview):
    return (
        preview.rate.bps,
        preview.savings,
        [(line.account, line.balance, line.committed, line.carried) for line in preview.lines],
        [(t.payer_id, t.receiver_id, t.net, t.gross, t.fee) for t in preview.transfers],
        preview.sales,
    )


def _page(client, url):
    """The page's text without its CSRF tokens, which carry the second they were signed in."""
    text = client.get(url).get_data(as_text=True)
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', text)


def test_a_rate_cannot_start_inside_a_closed_month(month, app):
    clan, leader, officer = month["clan"], month["leader"], month["officer"]
    close.confirm_close(db.session, officer.id, clan.id, month["period"].id)
    settings = replace(clans.current_settings(db.session, clan), fee_bps=700)
    with pytest.raises(ValidationError) as refused:
        clans.update_settings(db.session, leader.id, clan.id, settings, date(2026, 3, 31))
    db.session.rollback()
    assert refused.value.field == "effective_from"
    with app.test_request_context():
        assert service_message(refused.value).startswith("2026年3月 已結帳")
    clans.update_settings(db.session, leader.id, clan.id, settings, date(2026, 4, 1))  # allowed


def test_a_closed_months_figures_never_change(month, client, login):
    clan, officer, period = month["clan"], month["officer"], month["period"]
    close.confirm_close(db.session, officer.id, clan.id, period.id)
    before = _shown(close.preview_close(db.session, officer.id, clan.id, period.id))
    login(officer)
    page_before = _page(client, f"/clans/{clan.id}/periods/{period.id}")
    assert before[0] == 500
    # A 7 % rate dated on the month's last day gets in anyway (an old row, a direct edit):
    db.session.add(
        ClanRate(
            clan_id=clan.id, kind=RateKind.EXCHANGE_FEE, bps=700, effective_from=date(2026, 3, 31)
        )
    )
    db.session.commit()
    after = _shown(close.preview_close(db.session, officer.id, clan.id, period.id))
    assert after == before
    assert period_savings(db.session, clan, period) == before[1]  # the dashboard's figure
    page_after = _page(client, f"/clans/{clan.id}/periods/{period.id}")
    assert page_after == page_before
