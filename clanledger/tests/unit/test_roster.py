"""Roster text: lines, columns, names, collisions within the file and the size limits."""

from __future__ import annotations

import pytest

from clanledger.domain.roster import (
    MAX_ROSTER_BYTES,
    MAX_ROSTER_LINES,
    RosterLine,
    RosterRefused,
    decode_roster,
    parse_roster,
)


def test_names_alone_and_with_class_and_player():
    parsed = parse_roster('阿瑞斯\n小綠,妖精\n"Bob, Jr",騎士,小明\n')
    assert parsed.errors == []
    assert parsed.lines == [
        RosterLine(1, "阿瑞斯"),
        RosterLine(2, "小綠", "妖精"),
        RosterLine(3, "Bob, Jr", "騎士", "小明"),
    ]


def test_a_title_line_blank_lines_and_comments_are_skipped_but_counted():
    parsed = parse_roster("角色,職業,玩家\n\n# 主力\n阿瑞斯,騎士\n")
    assert parsed.lines == [RosterLine(4, "阿瑞斯", "騎士")]


def test_tab_separated_text_pasted_from_a_spreadsheet():
    parsed = parse_roster("Character\tClass\tPlayer\n阿瑞斯\t騎士\t小明\n")
    assert parsed.lines == [RosterLine(2, "阿瑞斯", "騎士", "小明")]


def test_names_are_normalised_like_a_single_character():
    parsed = parse_roster("  Ｂｏｂ  \n")
    assert parsed.lines == [RosterLine(1, "Bob")]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("阿瑞斯\nB\u200bob\n", 2),  # zero-width space
        ("阿瑞斯\n小綠\n\u202eboB\n", 3),  # right-to-left override
        ("阿瑞斯\n" + "長" * 65 + "\n", 2),
        ("a\nb\nc\n,騎士\n", 4),  # a class without a name
        ("a,b,c,d\n", 1),  # four columns
        ('a,"' + "x" * 40 + '"\n', 1),  # class over 32 characters
    ],
)
def test_a_malformed_line_is_refused_with_its_number(text, line):
    parsed = parse_roster(text)
    assert [error.number for error in parsed.errors] == [line]
    assert parsed.errors[0].params["line"] == line
    assert parsed.errors[0].message.startswith("Line %(line)s:")


def test_duplicates_and_look_alikes_in_the_file_name_the_first_line():
    parsed = parse_roster("Bob\n阿瑞斯\nbob\nＢＯＢ\n阿瑞斯,騎士\n")
    assert [line.name for line in parsed.lines] == ["Bob", "阿瑞斯"]
    assert [(e.number, e.params["first"]) for e in parsed.errors] == [(3, 1), (4, 1), (5, 2)]


def test_a_quoted_name_over_two_lines_keeps_the_numbers_of_the_lines_after_it():
    parsed = parse_roster('"a\nb",騎士\nc\nc\n')
    assert [e.number for e in parsed.errors] == [1, 4]  # a newline is an invisible character


def test_the_export_apostrophe_before_a_formula_is_dropped():
    assert parse_roster("'=Bob,騎士\n").lines == [RosterLine(1, "=Bob", "騎士")]


def test_too_many_bytes_or_lines_refuse_the_whole_roster():
    with pytest.raises(RosterRefused) as too_big:
        parse_roster("名" * (MAX_ROSTER_BYTES // 3 + 1))
    assert too_big.value.params == {"limit": MAX_ROSTER_BYTES // 1024}
    with pytest.raises(RosterRefused) as too_long:
        parse_roster("\n".join(f"c{i}" for i in range(MAX_ROSTER_LINES + 1)))
    assert too_long.value.params == {"limit": MAX_ROSTER_LINES}
    assert len(parse_roster("\n".join(f"c{i}" for i in range(MAX_ROSTER_LINES))).lines) == 500


def test_uploaded_bytes_in_utf8_with_bom_or_big5():
    assert decode_roster("\ufeff阿瑞斯,騎士\n".encode()) == "阿瑞斯,騎士\n"
    assert parse_roster("\ufeff角色,職業\n阿瑞斯\n").lines == [RosterLine(2, "阿瑞斯")]
    assert decode_roster("阿瑞斯,騎士\n".encode("big5")) == "阿瑞斯,騎士\n"
    with pytest.raises(RosterRefused):
        decode_roster(b"\xff\xfe\x00\x81\x00")
    with pytest.raises(RosterRefused):
        decode_roster(b"a" * (MAX_ROSTER_BYTES + 1))


def test_a_nul_character_refuses_the_whole_roster():
    with pytest.raises(RosterRefused):
        parse_roster("a\x00b\n")
