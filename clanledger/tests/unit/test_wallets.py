"""Wallets in the domain: the plan nets per wallet, the netting settles every character."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clanledger.domain.errors import NestedWallet
from clanledger.domain.fees import FeePolicy
from clanledger.domain.ledger import FEES, balances, member, transfer_postings
from clanledger.domain.money import Rate
from clanledger.domain.settlement import plan_settlement
from clanledger.domain.wallets import (
    check_wallets,
    trader_transfers,
    traders,
    wallet_balances,
    wallet_netting,
    wallet_saving,
)

FIVE = Rate(500)


def test_wallet_balances_add_up_each_purse() -> None:
    chars = {1: -3705, 2: 3705, 3: 500, 4: -500}
    assert wallet_balances(chars, {2: 1}) == {3: 500, 4: -500}
    assert wallet_balances(chars, {2: 1, 4: 3}) == {}


def test_a_player_paying_themselves_needs_no_transfer() -> None:
    """夜風 owes 3,705 while 夜風二號 is owed 3,705: one purse, nothing to move."""
    chars = {1: -3705, 2: 3705}
    per_character = plan_settlement(chars, FIVE, FeePolicy.PAYER)
    assert len(per_character.transfers) == 1 and per_character.total_fees == 195
    per_wallet = plan_settlement(wallet_balances(chars, {2: 1}), FIVE, FeePolicy.PAYER)
    assert per_wallet.transfers == ()
    assert wallet_netting(chars, {2: 1}) == {1: 3705, 2: -3705}
    saving = wallet_saving(per_character, per_wallet, FIVE, FeePolicy.PAYER)
    assert (saving.saved_fees, saving.saved_transfers) == (195, 1)


def test_the_trader_is_the_character_furthest_the_wallets_way() -> None:
    chars = {1: 300, 2: -100, 3: 900, 4: -1100}
    assert traders(chars, {2: 1, 3: 1}) == {1: 3, 4: 4}
    # a paying wallet buys with its most indebted character; a tie goes to the first key
    assert traders({1: -50, 2: -50, 3: 100}, {2: 1}) == {1: 1, 3: 3}
    # a wallet whose total is 0 has no trader
    assert traders({1: 10, 2: -10}, {2: 1}) == {}


def test_netting_moves_everything_onto_the_trader_and_sums_to_zero() -> None:
    chars = {1: 300, 2: -100, 3: 900, 4: -1100}
    moves = wallet_netting(chars, {2: 1, 3: 1})
    assert moves == {1: -300, 2: 100, 3: 200}
    assert sum(moves.values()) == 0


def test_a_wallet_is_one_level_deep() -> None:
    with pytest.raises(NestedWallet):
        check_wallets({3: 2, 2: 1})
    check_wallets({3: 1, 2: 1})


@st.composite
def grouped_balances(draw):
    values = draw(st.lists(st.integers(-5000, 5000), min_size=1, max_size=11))
    chars = {i: v for i, v in enumerate([*values, -sum(values)])}
    anchors = draw(st.lists(st.integers(0, len(chars) - 1), min_size=len(chars)))
    wallets = {}
    for key, anchor in zip(chars, anchors, strict=False):
        target = min(key, anchor)
        while target in wallets:  # keep it one level deep: point at the anchor's anchor
            target = wallets[target]
        if target != key:
            wallets[key] = target
    return chars, wallets


@settings(max_examples=150, deadline=None)
@given(grouped_balances(), st.sampled_from(list(FeePolicy)), st.integers(0, 300))
def test_paying_the_wallet_plan_settles_every_character(case, policy, threshold) -> None:
    """Never a transfer inside a wallet; after the netting entry and the plan's transfers
    (posted as the ledger posts them), every character ends at what is carried on it."""
    chars, wallets = case
    if policy is FeePolicy.FUND:
        policy = FeePolicy.PAYER  # the fund bearing fees is its own account, tested elsewhere
    plan = plan_settlement(wallet_balances(chars, wallets), FIVE, policy, threshold)
    for t in plan.transfers:
        assert wallets.get(t.payer, t.payer) != wallets.get(t.receiver, t.receiver)
    chosen = traders(chars, wallets)
    after = dict(chars)
    for key, amount in wallet_netting(chars, wallets).items():
        after[key] += amount
    postings = []
    for t in trader_transfers(plan, chosen):
        assert wallets.get(t.payer, t.payer) != wallets.get(t.receiver, t.receiver)
        postings += transfer_postings(member(t.payer), member(t.receiver), t.gross, t.fee, policy)
    moved = balances(postings)
    assert moved.get(FEES, 0) == 0
    carried = {chosen.get(k, k): v for k, v in plan.carried.items()}
    for key in chars:
        assert after[key] + moved.get(member(key), 0) == carried.get(key, 0), key
