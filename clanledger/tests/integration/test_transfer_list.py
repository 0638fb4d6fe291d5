"""The transfers list pages, filters and counts: no transfer is ever silently left out."""

from __future__ import annotations

from datetime import date

import pytest

from clanledger.extensions import db
from clanledger.models import Role, Transfer, TransferStatus
from clanledger.services import transfers
from clanledger.services.periods import period_for_day


@pytest.fixture
def plan(make_user, make_clan, add_member, make_character):
    """Two months of stored plans: March has 120 planned transfers from the member's 夜風
    to the leader's 星辰; April one of each state from the leader to a roster 100%_Alt, and
    one planned between two roster characters."""
    leader, member = make_user("leader"), make_user("member")
    clan = make_clan(leader=leader)
    add_member(clan, member, Role.MEMBER)
    night = make_character(clan, member, "夜風")
    star = make_character(clan, leader, "星辰")
    alt = make_character(clan, None, "100%_Alt")
    passer = make_character(clan, None, "路人")
    march = period_for_day(db.session, clan, date(2026, 3, 1))
    april = period_for_day(db.session, clan, date(2026, 4, 1))

    def add(period, seq, payer, receiver, status=TransferStatus.PLANNED):
        db.session.add(
            Transfer(
                clan_id=clan.id, period_id=period.id, seq=seq, payer_character_id=payer.id,
                receiver_character_id=receiver.id, net=100, gross=100 + seq, fee=0, status=status,
            )
        )  # fmt: skip

    for seq in range(1, 121):
        add(march, seq, night, star)
    for seq, status in enumerate(TransferStatus, start=1):
        add(april, seq, star, alt, status)
    add(april, 4, passer, alt)
    db.session.commit()
    return {"clan": clan, "leader": leader, "member": member, "march": march, "april": april}


def _page(plan, who="leader", page=1, **where):
    actor = plan[who]
    return transfers.transfer_page(
        db.session, actor.id, plan["clan"].id, transfers.TransferFilter(**where), page
    )


def test_120_transfers_page_by_50_with_the_total(plan):
    first = _page(plan, statuses=None)
    assert (first.total, first.page, first.pages, len(first.rows)) == (124, 1, 3, 50)
    # Newest month first, then the plan's order.
    assert [r.period.id for r in first.rows[:4]] == [plan["april"].id] * 4
    assert [r.transfer.seq for r in first.rows[4:7]] == [1, 2, 3]
    last = _page(plan, statuses=None, page=3)
    assert len(last.rows) == 24 and last.rows[-1].transfer.seq == 120
    assert _page(plan, statuses=None, page=99).page == 3  # past the end: the last page
    seen = {r.transfer.id for p in (1, 2, 3) for r in _page(plan, statuses=None, page=p).rows}
    assert len(seen) == 124  # every transfer on exactly one page


def test_filters_by_state_month_mine_and_name(plan):
    april = plan["april"].id
    states = lambda **w: sorted(r.transfer.status.value for r in _page(plan, **w).rows)  # noqa: E731
    assert states(period_id=april) == ["paid", "planned", "planned"]  # outstanding by default
    assert states(period_id=april, statuses=(TransferStatus.CONFIRMED,)) == ["confirmed"]
    assert states(period_id=april, statuses=None) == ["confirmed", "paid", "planned", "planned"]
    assert _page(plan, statuses=None, period_id=plan["march"].id).total == 120
    assert _page(plan, statuses=None, search="夜").total == 120
    assert _page(plan, statuses=None, search="  alt ").total == 4  # either side, any case
    assert _page(plan, statuses=None, search="%_").total == 4  # wildcards are plain text
    assert _page(plan, statuses=None, search="路人").total == 1
    assert _page(plan, statuses=None, search="nobody").total == 0
    assert _page(plan, statuses=None, mine=True).total == 123  # not 路人 -> 100%_Alt
    months = [p.id for p in _page(plan, statuses=None, search="nobody").months]
    assert months == [april, plan["march"].id]


def test_a_member_sees_and_counts_only_their_own(plan):
    mine = _page(plan, who="member", statuses=None)
    assert mine.total == 120 and all(r.payer == "夜風" for r in mine.rows)
    assert _page(plan, who="member", statuses=None, search="alt").total == 0
    assert [p.id for p in mine.months] == [plan["march"].id]


def test_the_page_says_how_many_and_keeps_the_filters(plan, login, client):
    login(plan["leader"])
    url = f"/clans/{plan['clan'].id}/transfers"
    html = client.get(f"{url}?state=all&q=夜風&page=2").get_data(as_text=True)
    assert "120" in html
    assert ("page 2 of 3" in html) or ("第 2 頁，共 3 頁" in html)
    assert "q=%E5%A4%9C%E9%A2%A8" in html and "state=all" in html  # pager links keep them
    one = client.get(f"{url}?state=confirmed&period={plan['april'].id}").get_data(as_text=True)
    assert f'<option value="{plan["april"].id}" selected>2026年4月</option>' in one
    assert one.count('class="card h-100"') == 1
    empty = client.get(f"{url}?state=all&q=nobody")
    assert empty.status_code == 200 and 'id="transfer-count"' in empty.text
    # The older spelling still shows every transfer.
    assert client.get(f"{url}?show=all").text.count('class="card h-100"') == 50


@pytest.mark.parametrize(
    "query",
    ["state=bogus", "page=-3", "page=99999999999999999999", "period=abc", "period=0",
     "mine=yes", "q=%25%25%25", "q=" + "x" * 5000, "state=all&period=2147483648"],
)  # fmt: skip
def test_odd_parameters_show_a_list(plan, login, client, query):
    login(plan["member"])
    assert client.get(f"/clans/{plan['clan'].id}/transfers?{query}").status_code == 200
