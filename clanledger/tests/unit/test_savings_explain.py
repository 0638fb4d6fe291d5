from fractions import Fraction

from clanledger.domain.distribution import distribute_sale
from clanledger.domain.explain import explain_balance, explain_plan_transfer
from clanledger.domain.fees import FeePolicy
from clanledger.domain.ledger import FUND, balances, member, sale_postings
from clanledger.domain.money import Rate
from clanledger.domain.savings import netting_savings, sale_payments
from clanledger.domain.settlement import plan_settlement

ANN, BOB, CID = member(1), member(2), member(3)
FIVE = Rate(500)


def two_sales():
    # ann sells for 1000 shared by all three; bob sells for 600 shared by all three
    first = distribute_sale(1000, Rate(0), {ANN: 1, BOB: 1, CID: 1}, seed=1)
    second = distribute_sale(600, Rate(0), {ANN: 1, BOB: 1, CID: 1}, seed=2)
    return [(ANN, first), (BOB, second)]


def test_sale_payments_pay_everyone_but_the_holder():
    d = distribute_sale(1000, Rate(1000), {ANN: 1, BOB: Fraction(1, 2), CID: 1}, seed=0)
    assert sale_payments(ANN, d) == [(ANN, BOB, 180), (ANN, CID, 360)]
    assert sale_payments(ANN, d, fund_payee=CID)[-1] == (ANN, CID, 100)


def test_netting_saves_fees_computed_by_hand():
    sales = two_sales()
    postings = [p for holder, d in sales for p in sale_postings(holder, d)]
    month = balances(postings)
    # shares: sale 1 -> 334/333/333 (seed 1 rotates the extra diamond), sale 2 -> 200 each
    assert sum(month.values()) == 0
    plan = plan_settlement(month, FIVE, FeePolicy.PAYER)
    per_sale = [p for holder, d in sales for p in sale_payments(holder, d)]
    savings = netting_savings(per_sale, plan, FIVE, FeePolicy.PAYER)
    # per sale: ann pays two shares of ~333 (fee 18 each: gross_up(333)=351, fee 18;
    # gross_up(334)=352, fee 18), bob pays two of 200 (gross 211, fee 11 each)
    assert savings.per_sale_transfers == 4
    assert savings.plan_transfers == len(plan.transfers) == 2
    assert savings.per_sale_fees == 18 + 18 + 11 + 11
    assert savings.plan_fees == plan.total_fees
    assert savings.saved == savings.per_sale_fees - savings.plan_fees > 0


def test_explain_balance_lines_add_up():
    sales = two_sales()
    postings = [p for holder, d in sales for p in sale_postings(holder, d)]
    explanation = explain_balance(postings, BOB, opening=-5)
    assert [line.posting.amount for line in explanation.lines] == [
        next(p.amount for p in sale_postings(*sales[0]) if p.account == BOB),
        -600,
        200,
    ]
    assert explanation.balance == -5 + sum(p.amount for p in postings if p.account == BOB)
    assert explanation.credits + explanation.debits == explanation.balance + 5
    assert explain_balance(postings, FUND).balance == 0


def test_explain_plan_transfer_names_the_group():
    balances_ = {"a": 7, "b": -8, "c": -11, "d": 4, "e": 8}
    plan = plan_settlement(balances_, FIVE, FeePolicy.PAYER)
    for transfer in plan.transfers:
        why = explain_plan_transfer(plan, transfer)
        assert sum(why.group.values()) == 0
        assert transfer in why.transfers
        assert len(why.transfers) == len(why.group) - 1
    c_to_d = next(t for t in plan.transfers if (t.payer, t.receiver) == ("c", "d"))
    # d never traded with c directly: the group a, c, d cancels out
    assert explain_plan_transfer(plan, c_to_d).group == {"a": 7, "c": -11, "d": 4}
