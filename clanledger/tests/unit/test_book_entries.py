"""Balanced entries and amounts as typed: splits, transfers, card payments, conversions and
opening balances sum to zero per currency; parse/format are exact and refuse nonsense."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clanledger.domain.book.entries import (
    Split,
    account_balances,
    check_split_total,
    expense_lines,
    income_lines,
    opening_lines,
    transfer_lines,
    unbalanced,
)
from clanledger.domain.book.errors import BookInputError
from clanledger.domain.book.money import MAX_AMOUNT, format_amount, parse_amount

amounts = st.integers(1, 10**9)


@given(parts=st.lists(amounts, min_size=1, max_size=8))
def test_split_expenses_and_incomes_balance(parts):
    splits = [Split(i + 1, a) for i, a in enumerate(parts)]
    for build, sign in ((expense_lines, -1), (income_lines, 1)):
        lines = build(100, "TWD", splits)
        assert unbalanced(lines) == {}
        assert account_balances(lines) == {100: sign * sum(parts)}
    check_split_total(sum(parts), splits)


def test_a_split_with_a_discount_line_balances_and_a_wrong_total_is_refused():
    splits = [Split(1, 500), Split(2, 300), Split(1, -50)]
    lines = expense_lines(9, "TWD", splits)
    assert unbalanced(lines) == {} and account_balances(lines) == {9: -750}
    with pytest.raises(BookInputError):
        check_split_total(800, splits)
    for bad in ([], [Split(1, 0)], [Split(1, 100), Split(2, -100)], [Split(1, MAX_AMOUNT + 1)]):
        with pytest.raises(BookInputError):
            expense_lines(9, "TWD", bad)


@given(amount=amounts)
def test_a_card_payment_moves_the_debt_and_balances(amount):
    lines = transfer_lines(1, "TWD", 2, "TWD", amount)
    assert unbalanced(lines) == {}
    assert account_balances(lines) == {1: -amount, 2: amount}


@given(sent=amounts, received=amounts)
def test_a_transfer_across_currencies_balances_in_each(sent, received):
    lines = transfer_lines(1, "USD", 2, "TWD", sent, received)
    assert unbalanced(lines) == {}
    assert account_balances(lines) == {1: -sent, 2: received}


def test_odd_transfers_are_refused():
    for args in (
        (1, "TWD", 1, "TWD", 100),
        (1, "TWD", 2, "TWD", 0),
        (1, "TWD", 2, "TWD", -5),
        (1, "TWD", 2, "TWD", 100, 90),
        (1, "USD", 2, "TWD", 100),
        (1, "USD", 2, "TWD", 100, 0),
        (1, "TWD", 2, "TWD", MAX_AMOUNT + 1),
    ):
        with pytest.raises(BookInputError):
            transfer_lines(*args)


@given(balance=st.integers(-(10**12), 10**12).filter(bool))
def test_opening_balances_balance_against_equity(balance):
    lines = opening_lines(5, "TWD", balance)
    assert unbalanced(lines) == {} and account_balances(lines) == {5: balance}


def test_a_zero_or_huge_opening_balance_is_refused():
    for bad in (0, MAX_AMOUNT + 1, -MAX_AMOUNT - 1):
        with pytest.raises(BookInputError):
            opening_lines(5, "TWD", bad)


@pytest.mark.parametrize(
    ("text", "digits", "minor"),
    [
        ("120", 0, 120),
        ("１２０", 0, 120),
        ("1,234", 0, 1234),
        ("１，２３４", 0, 1234),
        ("NT$ 1,200", 0, 1200),
        ("120元", 0, 120),
        ("1,234.5", 2, 123450),
        ("0.01", 2, 1),
        ("45.50", 2, 4550),
        ("１２．５", 1, 125),
        ("120", 2, 12000),
        (" 7 ", 4, 70000),
    ],
)
def test_amounts_are_parsed_exactly(text, digits, minor):
    assert parse_amount(text, digits) == minor


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("", 0),
        ("   ", 0),
        ("0", 0),
        ("0.00", 2),
        ("-120", 0),
        ("(120)", 0),
        ("12.5", 0),
        ("1.234", 2),
        ("abc", 0),
        ("1e3x", 0),
        ("NaN", 0),
        ("Infinity", 0),
        ("1" + "0" * 16, 0),
        ("9" * 40, 2),
        ("1..2", 2),
        ("--5", 0),
    ],
)
def test_bad_amounts_are_refused(text, digits):
    with pytest.raises(BookInputError):
        parse_amount(text, digits)


def test_negative_amounts_only_when_allowed():
    assert parse_amount("-120", 0, allow_negative=True) == -120
    assert parse_amount("(1,200.50)", 2, allow_negative=True) == -120050


@given(minor=st.integers(-MAX_AMOUNT, MAX_AMOUNT).filter(bool), digits=st.integers(0, 4))
def test_format_then_parse_round_trips(minor, digits):
    text = format_amount(minor, digits)
    assert parse_amount(text, digits, allow_negative=True) == minor
    assert Decimal(text.replace(",", "")) == Decimal(minor).scaleb(-digits)


@given(whole=st.integers(1, 10**9), digits=st.integers(0, 4))
def test_full_width_digits_parse_like_ascii(whole, digits):
    ascii_text = f"{whole:,}"
    wide = ascii_text.translate(str.maketrans("0123456789,", "０１２３４５６７８９，"))
    assert parse_amount(wide, digits) == parse_amount(ascii_text, digits) == whole * 10**digits
