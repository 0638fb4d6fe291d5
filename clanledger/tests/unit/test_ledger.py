from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clanledger.domain.distribution import distribute_sale
from clanledger.domain.errors import InvalidAmount, PeriodClosed, UnbalancedEntry
from clanledger.domain.fees import FeePolicy, transfer_terms
from clanledger.domain.ledger import (
    FEES,
    FUND,
    Account,
    AccountKind,
    LedgerPosting,
    PostingRole,
    adjustment_postings,
    balances,
    check_balanced,
    fees_paid,
    internal_purchase_postings,
    member,
    reversal_postings,
    sale_postings,
    transfer_postings,
)
from clanledger.domain.money import Rate
from clanledger.domain.period import AccountingPeriod

ANN, BOB, CID = member(1), member(2), member(3)


def test_sale_postings_balance_and_explain_the_holder():
    d = distribute_sale(1000, Rate(1000), {ANN: 1, BOB: 1, CID: Fraction(1, 2)}, seed=4)
    postings = sale_postings(ANN, d)
    assert sum(p.amount for p in postings) == 0
    # ann held 1000, keeps her share 360: she owes 640 to the others and the fund
    assert balances(postings) == {ANN: -640, BOB: 360, CID: 180, FUND: 100}


def test_internal_purchase_costs_no_fee():
    d = distribute_sale(300, Rate(0), {ANN: 1, BOB: 1, CID: 1}, seed=0)
    postings = internal_purchase_postings(CID, d)
    assert balances(postings) == {ANN: 100, BOB: 100, CID: -200}
    assert postings[0].role is PostingRole.PURCHASE_PRICE
    assert fees_paid(postings) == 0


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (FeePolicy.PAYER, {ANN: 0, BOB: 0, FUND: 0, FEES: 0}),
        (FeePolicy.RECEIVER, {ANN: 0, BOB: 0, FUND: 0, FEES: 0}),
        (FeePolicy.FUND, {ANN: 6, BOB: 0, FUND: -6, FEES: 0}),
    ],
)
def test_transfer_postings_follow_the_fee_policy(policy, expected):
    # ann owes 100, bob is owed 100, the fund holds 0; fee 5 %
    opening = adjustment_postings({ANN: -100, BOB: 100}, PostingRole.OPENING)
    gross, fee = transfer_terms(100, Rate(500), policy)
    postings = transfer_postings(ANN, BOB, gross, fee, policy)
    assert sum(p.amount for p in postings) == 0
    assert fees_paid(postings) == fee
    after = balances([*opening, *postings])
    assert {account: after.get(account, 0) for account in expected} == expected
    if policy is FeePolicy.RECEIVER:
        assert (gross, fee) == (100, 5)  # bob lists at 100 and ends with 95
    else:
        assert (gross, fee) == (106, 6)  # bob lists at 106 and ends with exactly 100


def test_transfer_postings_reject_bad_fee():
    with pytest.raises(InvalidAmount, match="cannot exceed"):
        transfer_postings(ANN, BOB, 5, 6, FeePolicy.PAYER)


def test_reversal_undoes_everything():
    d = distribute_sale(777, Rate(250), {ANN: 1, BOB: 2}, seed=9)
    postings = sale_postings(CID, d)
    assert set(balances([*postings, *reversal_postings(postings)]).values()) == {0}


def test_unbalanced_entries_are_rejected_with_the_sum():
    with pytest.raises(UnbalancedEntry, match=r"sum to \+5"):
        check_balanced([LedgerPosting(ANN, 10), LedgerPosting(BOB, -5)])
    with pytest.raises(UnbalancedEntry):
        adjustment_postings({ANN: 3})


def test_account_identity_and_order():
    assert member(5) == Account(AccountKind.MEMBER, 5)
    assert sorted([FEES, FUND, member(9), member(2)]) == [member(2), member(9), FUND, FEES]
    with pytest.raises(InvalidAmount, match="character id"):
        Account(AccountKind.MEMBER)
    with pytest.raises(InvalidAmount):
        Account(AccountKind.FUND, 3)


def test_sale_in_closed_period_is_refused():
    june = AccountingPeriod.month(2026, 6, closed=True)
    with pytest.raises(PeriodClosed, match=r"closed period 2026-06-01 to 2026-07-01.*correction"):
        june.require_open(date(2026, 6, 15))
    AccountingPeriod.month(2026, 7).require_open(date(2026, 7, 31))
    assert AccountingPeriod.month(2026, 12).end == date(2027, 1, 1)


sale_events = st.tuples(
    st.integers(1, 12),  # holder
    st.integers(0, 10**6),  # received
    st.dictionaries(st.integers(1, 12), st.sampled_from([1, Fraction(1, 2), 2]), min_size=1),
    st.booleans(),  # internal purchase?
)
transfer_events = st.tuples(
    st.integers(1, 12), st.integers(1, 12), st.integers(0, 10**5), st.sampled_from(FeePolicy)
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(sale_events, transfer_events), max_size=25),
    st.integers(0, 3000).map(Rate),
)
def test_any_sequence_of_events_keeps_the_ledger_at_zero(events, rate):
    journal: list[LedgerPosting] = []
    for item_id, event in enumerate(events):
        if len(event) == 4 and isinstance(event[2], dict):
            holder, received, weights, internal = event
            d = distribute_sale(received, rate, {member(k): w for k, w in weights.items()}, item_id)
            build = internal_purchase_postings if internal else sale_postings
            entry = build(member(holder), d)
        else:
            payer, receiver, net, policy = event
            gross, fee = transfer_terms(net, rate, policy)
            entry = transfer_postings(member(payer), member(receiver), gross, fee, policy)
        assert sum(p.amount for p in entry) == 0
        journal.extend(entry)
    assert sum(balances(journal).values()) == 0
    assert balances(journal).get(FEES, 0) == 0


def test_account_label_is_one_rule_for_pages_and_exports():
    from clanledger.domain.ledger import AccountKind, account_label

    assert account_label(AccountKind.MEMBER, "Lia") == "Lia"
    assert account_label("fund") == "fund"  # exports keep the account kind code
    assert account_label("fees", None, str.upper) == "EXCHANGE FEES"  # pages translate
