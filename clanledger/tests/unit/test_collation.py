"""Names sort as a Taiwanese reader expects (stroke order), or as an English one (no regard
to case), never by code point."""

from __future__ import annotations

import itertools

import pytest

from clanledger.domain import collation
from clanledger.domain.collation import by_name, sort_key

STROKES = ["一", "丁", "三", "王", "夜", "星"]  # 1, 2, 3, 4, 8 and 9 strokes


def test_traditional_chinese_sorts_by_stroke_count():
    assert by_name(reversed(STROKES), locale="zh_Hant") == STROKES
    assert sorted(STROKES) != STROKES  # code points: 一 丁 三 夜 星 王
    assert by_name(["張三", "李四", "王五"], locale="zh_Hant") == ["王五", "李四", "張三"]


@pytest.mark.parametrize(("first", "second"), list(itertools.pairwise(STROKES)))
def test_each_stroke_pair_in_order(first, second):
    assert sort_key(first, "zh_Hant") < sort_key(second, "zh_Hant")


def test_mixed_names_chinese_first_in_traditional_chinese_latin_first_in_english():
    names = ["bob", "夜風", "Alice", "王", "alan", "Zed"]
    assert by_name(names, locale="zh_Hant") == ["王", "夜風", "alan", "Alice", "bob", "Zed"]
    assert by_name(names, locale="en")[:4] == ["alan", "Alice", "bob", "Zed"]


def test_english_ignores_case_and_accents_first():
    assert by_name(["eve", "Émile", "Zed", "adam", "Bob"], locale="en") == [
        "adam", "Bob", "Émile", "eve", "Zed",
    ]  # fmt: skip


def test_digits_in_a_name_count_as_numbers():
    assert by_name(["Knight10", "Knight2", "Knight1"], locale="en") == [
        "Knight1", "Knight2", "Knight10",
    ]  # fmt: skip
    assert by_name(["騎士10", "騎士9"], locale="zh_Hant") == ["騎士9", "騎士10"]


def test_the_reader_locale_is_the_default_and_unknown_ones_fall_back():
    try:
        collation.use_locale("en")
        assert by_name(["王", "bob"]) == ["bob", "王"]
        collation.use_locale("xx")
        assert collation.current_locale() == "zh_Hant"
        assert by_name(["bob", "王"]) == ["王", "bob"]
    finally:
        collation.use_locale(collation.DEFAULT_LOCALE)
