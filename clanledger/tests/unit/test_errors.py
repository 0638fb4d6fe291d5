"""Every kind of bad input named by the rules raises a DomainError that says what to do."""

from datetime import date

import pytest

from clanledger.domain.distribution import distribute_sale
from clanledger.domain.errors import (
    DomainError,
    EmptyParticipants,
    InvalidAmount,
    InvalidRate,
    PeriodClosed,
    UnbalancedEntry,
    ZeroTotalWeight,
)
from clanledger.domain.fees import FeePolicy
from clanledger.domain.ledger import LedgerPosting, check_balanced, member
from clanledger.domain.money import Rate
from clanledger.domain.period import AccountingPeriod
from clanledger.domain.settlement import plan_settlement

CASES = [
    (
        "negative amount",
        lambda: distribute_sale(-5, Rate(0), {1: 1}),
        InvalidAmount,
        "cannot be negative, got -5; enter 0 or more diamonds",
    ),
    (
        "empty participants",
        lambda: distribute_sale(100, Rate(0), {}),
        EmptyParticipants,
        "add at least one participant",
    ),
    (
        "zero total weight",
        lambda: distribute_sale(100, Rate(0), {1: 0, 2: 0}),
        ZeroTotalWeight,
        "give at least one participant a weight above 0",
    ),
    ("rate of 100 %", lambda: Rate.from_percent("100"), InvalidRate, "below 100 %, got 100 %"),
    (
        "sale in a closed period",
        lambda: AccountingPeriod.month(2026, 5, closed=True).require_open(date(2026, 5, 9)),
        PeriodClosed,
        "record it in the open period as a correction",
    ),
    (
        "unbalanced entry",
        lambda: check_balanced([LedgerPosting(member(1), 3)]),
        UnbalancedEntry,
        "add the missing counter-posting",
    ),
    (
        "unbalanced settlement",
        lambda: plan_settlement({1: 5, 2: -4}, Rate(500), FeePolicy.PAYER),
        UnbalancedEntry,
        "include every account, the clan fund too",
    ),
]


@pytest.mark.parametrize(("name", "action", "error", "advice"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_an_actionable_domain_error(name, action, error, advice):
    with pytest.raises(error) as caught:
        action()
    assert isinstance(caught.value, DomainError)
    assert advice in str(caught.value)
