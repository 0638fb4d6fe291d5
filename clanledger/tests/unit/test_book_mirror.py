"""The clan link's arithmetic, on postings the clan ledger's own domain builds."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from clanledger.domain import ledger as dl
from clanledger.domain.book import mirror as dm
from clanledger.domain.distribution import distribute_sale
from clanledger.domain.fees import FeePolicy
from clanledger.domain.money import Rate

ME1, ME2, OTHER, THIRD = 1, 2, 3, 4
MINE = frozenset({ME1, ME2})


def clan(postings: list[dl.LedgerPosting]) -> tuple[dm.ClanPosting, ...]:
    return tuple(dm.ClanPosting(p.account.kind.value, p.account.id, p.amount) for p in postings)


def sale(holder: int, weights: dict[int, Fraction | int], received: int) -> dm.EntryFacts:
    distribution = distribute_sale(
        received, Rate(1000), {dl.member(c): w for c, w in weights.items()}
    )
    return dm.EntryFacts(dm.SALE, clan(dl.sale_postings(dl.member(holder), distribution)))


def test_a_held_sale_i_also_shared_in():
    result = dm.mirror(sale(ME1, {ME1: 1, OTHER: 1}, 1000), MINE)
    # -1000 received, +450 share; the 1000 are in my hands; 450 is my income.
    assert result.claims == {ME1: -550}
    assert (result.in_hand, result.balancing, result.category) == (1000, -450, dm.GAIN)


def test_a_share_of_someone_elses_sale():
    result = dm.mirror(sale(OTHER, {ME2: 1, OTHER: 1, THIRD: 1}, 900), MINE)
    assert result.claims == {ME2: 270}
    assert (result.in_hand, result.balancing, result.category) == (0, -270, dm.GAIN)


def test_a_sale_i_held_without_a_share_is_no_income():
    result = dm.mirror(sale(ME1, {OTHER: 1}, 500), MINE)
    assert (result.claim, result.in_hand, result.balancing, result.category) == (-500, 500, 0, None)


def test_an_internal_purchase_is_spending_on_a_game_item():
    distribution = distribute_sale(300, Rate(1000), {dl.member(ME2): 1, dl.member(OTHER): 1})
    postings = dl.internal_purchase_postings(dl.member(ME2), distribution)
    result = dm.mirror(dm.EntryFacts(dm.INTERNAL_PURCHASE, clan(postings)), MINE)
    assert result.claims == {ME2: -300 + 135}
    assert (result.in_hand, result.balancing, result.category) == (0, 165, "games")


@pytest.mark.parametrize("policy", list(FeePolicy))
@pytest.mark.parametrize("payer,receiver", [(ME1, OTHER), (OTHER, ME1), (ME1, ME2)])
def test_a_transfer_costs_me_the_fee_only_when_i_bear_it(policy, payer, receiver):
    gross, fee = 706, 36
    postings = dl.transfer_postings(dl.member(payer), dl.member(receiver), gross, fee, policy)
    facts = dm.EntryFacts(dm.TRANSFER, clan(postings), payer_id=payer, receiver_id=receiver)
    result = dm.mirror(facts, MINE)
    bearer = {FeePolicy.PAYER: payer, FeePolicy.RECEIVER: receiver, FeePolicy.FUND: None}[policy]
    expected_hand = (-gross if payer in MINE else 0) + (gross - fee if receiver in MINE else 0)
    assert result.in_hand == expected_hand
    assert result.balancing == (fee if bearer in MINE else 0)
    assert result.category == ("fees" if bearer in MINE else None)


def test_a_reversal_undoes_its_original_with_the_same_category():
    original = sale(ME1, {ME1: 1, OTHER: 1}, 1000)
    undone = dm.EntryFacts(
        dm.REVERSAL,
        tuple(dm.ClanPosting(p.account_kind, p.character_id, -p.amount) for p in original.postings),
        reversed=original,
    )
    first, second = dm.mirror(original, MINE), dm.mirror(undone, MINE)
    assert second.claims == {c: -a for c, a in first.claims.items()}
    assert (second.in_hand, second.balancing) == (-first.in_hand, -first.balancing)
    assert second.category == first.category == dm.GAIN


def test_carries_are_never_mirrored_but_a_netting_and_its_reversal_are():
    carried = (dm.ClanPosting("member", ME1, -670), dm.ClanPosting("member", OTHER, 670))
    assert dm.mirror(dm.EntryFacts(dm.OPENING, carried), MINE) == dm.Mirror()
    back = dm.EntryFacts(dm.REVERSAL, carried, source_type="period")
    assert dm.mirror(back, MINE) == dm.Mirror()
    pair = (dm.ClanPosting("member", ME1, -120), dm.ClanPosting("member", ME2, 120))
    netting = dm.EntryFacts(dm.WALLET_NETTING, pair, source_type="wallets")
    assert dm.mirror(netting, MINE) == dm.Mirror({ME1: -120, ME2: 120}, 0, None)
    reversed_pair = tuple(dm.ClanPosting(p.account_kind, p.character_id, -p.amount) for p in pair)
    undo = dm.EntryFacts(dm.REVERSAL, reversed_pair, source_type="wallets", reversed=netting)
    assert dm.mirror(undo, MINE) == dm.Mirror({ME1: 120, ME2: -120}, 0, None)


@pytest.mark.parametrize("amount,category", [(-40, dm.OTHER_LOSS), (40, dm.GAIN)])
def test_an_adjustment_moves_only_the_claim(amount, category):
    postings = clan(dl.adjustment_postings({dl.member(ME1): amount, dl.FUND: -amount}))
    result = dm.mirror(dm.EntryFacts(dm.ADJUSTMENT, postings), MINE)
    assert (result.claim, result.in_hand, result.balancing) == (amount, 0, -amount)
    assert result.category == category


def test_wealth_moves_by_the_shares_minus_what_i_bore_over_random_sales():
    """Whatever the sales, my claim + in hand moves by exactly my shares (the income)."""
    rng = random.Random(18)
    for _ in range(200):
        chars = [ME1, ME2, OTHER, THIRD]
        weights = {c: Fraction(rng.randint(0, 4), 2) for c in rng.sample(chars, rng.randint(1, 4))}
        if not any(weights.values()):
            continue
        holder = rng.choice(chars)
        members = {dl.member(c): w for c, w in weights.items()}
        received, cut = rng.randint(0, 10**7), Rate(rng.randint(0, 3000))
        distribution = distribute_sale(received, cut, members, seed=rng.randint(0, 99))
        postings = dl.sale_postings(dl.member(holder), distribution)
        result = dm.mirror(dm.EntryFacts(dm.SALE, clan(postings)), MINE)
        shares = sum(a for acc, a in distribution.shares.items() if acc.id in MINE)
        assert result.claim + result.in_hand == shares == -result.balancing
        assert result.in_hand == (distribution.received if holder in MINE else 0)


def test_notes_in_either_language():
    assert dm.note(dm.SALE, "zh_Hant", item="屠龍") == "拍賣所售出「屠龍」"
    assert dm.note(dm.SALE, "en", item="屠龍") == "Sold on the exchange: 屠龍"
    assert dm.note(dm.TRANSFER, None, seq=3, month="2026-03") == "結算轉帳 #3（2026-03 月結）"
    said = dm.note(dm.REVERSAL, "en", original="Sold on the exchange: 屠龍", reason="typo")
    assert said == "Reversal: Sold on the exchange: 屠龍 (reason: typo)"
