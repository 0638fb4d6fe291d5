"""The internal auction's pure rules: increments, sealed bids, ties, anti-sniping,
eligibility, the bidding limit and the auction's length."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clanledger.domain.auction import (
    AuctionRules,
    Bid,
    BidRefused,
    Eligibility,
    check_bid,
    check_duration,
    check_eligible,
    check_limit,
    extended_end,
    minimum_bid,
    winner,
)

T0 = datetime(2026, 3, 5, 20, 0, tzinfo=UTC)
OPEN = AuctionRules(start_price=1000, increment=50)
SEALED = AuctionRules(start_price=1000, increment=50, sealed=True)


def test_the_first_bid_is_at_least_the_starting_price():
    assert minimum_bid(OPEN, [], bidder=1) == 1000
    check_bid(OPEN, [], 1, 1000)
    with pytest.raises(BidRefused) as refused:
        check_bid(OPEN, [], 1, 999)
    assert refused.value.params == {"minimum": 1000}


def test_a_later_bid_beats_the_highest_by_the_increment():
    bids = [Bid(1, bidder=1, amount=1000), Bid(2, bidder=2, amount=1200)]
    assert minimum_bid(OPEN, bids, bidder=1) == 1250
    check_bid(OPEN, bids, 3, 1250)
    with pytest.raises(BidRefused):
        check_bid(OPEN, bids, 3, 1249)


def test_sealed_bids_only_need_the_starting_price_and_to_beat_ones_own():
    bids = [Bid(1, bidder=1, amount=5000)]
    assert minimum_bid(SEALED, bids, bidder=2) == 1000  # others' bids are not visible
    assert minimum_bid(SEALED, bids, bidder=1) == 5050


@pytest.mark.parametrize(
    ("bids", "expected_seq"),
    [
        ([], None),
        ([Bid(1, 1, 1000)], 1),
        ([Bid(1, 1, 1000), Bid(2, 2, 1500), Bid(3, 3, 1200)], 2),
        # equal amounts: the earlier bid wins, whatever order the list is in
        ([Bid(7, 2, 3000), Bid(4, 1, 3000), Bid(9, 3, 2000)], 4),
    ],
)
def test_the_highest_bid_wins_and_the_earlier_breaks_a_tie(bids, expected_seq):
    best = winner(bids)
    assert (best.seq if best else None) == expected_seq


def test_a_late_bid_extends_the_end_and_an_early_one_does_not():
    ends = T0 + timedelta(hours=1)
    assert extended_end(OPEN, ends, ends - timedelta(minutes=10)) == ends
    assert extended_end(OPEN, ends, ends - timedelta(minutes=5)) == ends + timedelta(minutes=0)
    assert extended_end(OPEN, ends, ends - timedelta(minutes=1)) == ends + timedelta(minutes=4)
    long_extension = AuctionRules(
        1000, 50, snipe_window=timedelta(minutes=2), snipe_extension=timedelta(minutes=10)
    )
    assert extended_end(long_extension, ends, ends - timedelta(seconds=30)) == ends + timedelta(
        minutes=9, seconds=30
    )


def test_anti_sniping_is_off_with_a_zero_window_and_for_sealed_bids():
    ends = T0 + timedelta(hours=1)
    off = AuctionRules(1000, 50, snipe_window=timedelta(0))
    assert extended_end(off, ends, ends - timedelta(seconds=1)) == ends
    assert extended_end(SEALED, ends, ends - timedelta(seconds=1)) == ends


@pytest.mark.parametrize(
    ("amount", "balance", "committed", "credit", "allowed"),
    [
        (10_000, -50_000, 0, None, True),  # no limit
        (5_000, 3_000, 0, 2_000, True),  # balance + allowance exactly
        (5_001, 3_000, 0, 2_000, False),
        (3_000, 3_000, 1, 0, False),  # what one already leads elsewhere counts
        (1, -1_000, 0, 1_000, False),  # a member who owes the clan has less room
        (1_000, -1_000, 0, 2_000, True),
    ],
)
def test_the_bidding_limit_is_balance_plus_allowance_less_what_one_leads(
    amount, balance, committed, credit, allowed
):
    if allowed:
        check_limit(amount, balance, committed, credit)
    else:
        with pytest.raises(BidRefused) as refused:
            check_limit(amount, balance, committed, credit)
        assert refused.value.params["room"] == max(balance + credit - committed, 0)


def test_only_those_at_the_kill_bid_on_an_attendees_auction():
    check_eligible(Eligibility.CLAN, bidder_at_kill=False)
    check_eligible(Eligibility.ATTENDEES, bidder_at_kill=True)
    with pytest.raises(BidRefused):
        check_eligible(Eligibility.ATTENDEES, bidder_at_kill=False)


@pytest.mark.parametrize(
    ("length", "ok"),
    [
        (timedelta(minutes=4), False),
        (timedelta(minutes=5), True),
        (timedelta(days=14), True),
        (timedelta(days=14, seconds=1), False),
        (timedelta(hours=-1), False),
    ],
)
def test_an_auction_runs_five_minutes_to_fourteen_days(length, ok):
    if ok:
        check_duration(T0, T0 + length)
    else:
        with pytest.raises(BidRefused):
            check_duration(T0, T0 + length)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start_price": 0, "increment": 1},
        {"start_price": 1, "increment": 0},
        {"start_price": 1, "increment": 1, "snipe_window": timedelta(minutes=61)},
        {"start_price": 1, "increment": 1, "snipe_extension": timedelta(seconds=-1)},
    ],
)
def test_rules_out_of_range_are_refused(kwargs):
    with pytest.raises(ValueError):
        AuctionRules(**kwargs)


bid_lists = st.lists(st.tuples(st.integers(1, 5), st.integers(1, 10_000)), max_size=30).map(
    lambda pairs: [Bid(seq, bidder, amount) for seq, (bidder, amount) in enumerate(pairs)]
)


@given(bid_lists)
def test_the_winner_is_the_highest_and_no_earlier_bid_ties_it(bids):
    best = winner(bids)
    if not bids:
        assert best is None
        return
    assert best.amount == max(b.amount for b in bids)
    assert all(b.seq >= best.seq for b in bids if b.amount == best.amount)


@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 5_000)), max_size=40))
def test_bids_the_rules_accept_in_an_open_auction_rise_by_the_increment(attempts):
    accepted: list[Bid] = []
    for seq, (bidder, amount) in enumerate(attempts):
        try:
            check_bid(OPEN, accepted, bidder, amount)
        except BidRefused:
            continue
        accepted.append(Bid(seq, bidder, amount))
    amounts = [b.amount for b in accepted]
    assert all(later - earlier >= OPEN.increment for earlier, later in pairwise(amounts))
    assert not amounts or amounts[0] >= OPEN.start_price
    assert winner(accepted) == (accepted[-1] if accepted else None)


@given(st.integers(0, 3600), st.integers(0, 3600), st.integers(-7200, 7200))
def test_an_extension_never_shortens_the_auction_and_only_late_bids_extend(window, extension, lead):
    rules = AuctionRules(
        1, 1, snipe_window=timedelta(seconds=window), snipe_extension=timedelta(seconds=extension)
    )
    ends = T0 + timedelta(hours=3)
    bid_at = ends - timedelta(seconds=lead)
    new_end = extended_end(rules, ends, bid_at)
    assert new_end >= ends
    if new_end > ends:
        assert 0 <= lead <= window or (lead < 0 and window > 0)
        assert new_end == bid_at + timedelta(seconds=extension)
