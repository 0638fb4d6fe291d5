"""Reading import files without a database: decoding, dates (民國 too), the column mapping,
duplicates by fingerprint, and the MoF e-invoice carrier export."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from clanledger.domain.book import csv_import, einvoice
from clanledger.domain.book.csv_import import ImportRow, Mapping
from clanledger.domain.book.errors import BookInputError
from clanledger.domain.book.import_text import (
    MAX_IMPORT_BYTES,
    ImportRefused,
    LineRefused,
    decode,
    parse_date,
)


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("2026-12-05", "ymd", date(2026, 12, 5)),
        ("2026/12/05", "ymd", date(2026, 12, 5)),
        ("2026/1/5", "ymd", date(2026, 1, 5)),
        ("20261205", "ymd", date(2026, 12, 5)),
        ("2026.12.05", "ymd", date(2026, 12, 5)),
        ("115/12/05", "ymd", date(2026, 12, 5)),
        ("1151205", "ymd", date(2026, 12, 5)),
        ("115-1-5", "ymd", date(2026, 1, 5)),
        ("99/12/31", "ymd", date(2010, 12, 31)),
        ("民國115年12月5日", "ymd", date(2026, 12, 5)),
        ("2026年12月5日", "ymd", date(2026, 12, 5)),
        ("２０２６／１２／０５", "ymd", date(2026, 12, 5)),
        ("2026/12/05 13:45", "ymd", date(2026, 12, 5)),
        ("2026-12-05T08:00:00", "ymd", date(2026, 12, 5)),
        ("59/1/5", "roc", date(1970, 1, 5)),
        ("59/1/5", "ymd", None),  # could be 2059 or 民國 59: refused
        ("1150229", "ymd", None),  # 2026 is not a leap year
        ("1130229", "ymd", date(2024, 2, 29)),
        ("651231", "roc", date(1976, 12, 31)),
        ("12/05/2026", "mdy", date(2026, 12, 5)),
        ("05/12/2026", "dmy", date(2026, 12, 5)),
        ("26/12/05", "ymd", None),  # an abbreviated year is ambiguous
        ("2026/13/01", "ymd", None),
        ("2026/12/32", "ymd", None),
        ("yesterday", "ymd", None),
        ("", "ymd", None),
        ("1969/12/31", "ymd", None),
        ("3000/01/01", "ymd", None),
        ("12345", "ymd", None),
        ("2026/12", "ymd", None),
        ("2026/12/05/01", "ymd", None),
    ],
)
def test_dates_as_banks_write_them(text, order, expected):
    if expected is None:
        with pytest.raises(LineRefused):
            parse_date(text, order)
    else:
        assert parse_date(text, order) == expected


def test_decoding_utf8_bom_and_big5():
    text = "日期,金額\n2026/12/01,120\n"
    assert decode(text.encode("utf-8")) == text
    assert decode(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    assert decode(text.encode("cp950")) == text
    assert decode(text.replace("\n", "\r\n").encode("cp950")) == text


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"  \r\n ",
        b"a,b\x00c\n",
        b"PK\x03\x04rest",
        b"%PDF-1.7",
        bytes(range(1, 32)) * 4,
        b"x" * (MAX_IMPORT_BYTES + 1),
        b"\xff\xfe\xfa" * 20,
    ],
)
def test_files_that_are_not_text_are_refused(data):
    with pytest.raises(ImportRefused):
        decode(data)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_sniffed(delimiter):
    text = delimiter.join(["日期", "摘要", "金額"]) + "\n"
    text += delimiter.join(["2026/12/01", "全家", "-120"]) + "\n"
    table = csv_import.read_table(text)
    assert table.delimiter == delimiter
    assert table.header == ["日期", "摘要", "金額"]
    assert table.rows == [(2, ["2026/12/01", "全家", "-120"])]


def test_line_numbers_count_quoted_newlines_and_blank_lines():
    text = 'date,payee,amount\n\n2026/12/01,"two\nlines",-1\n2026/12/02,x,-2\n'
    table = csv_import.read_table(text)
    assert [n for n, _ in table.rows] == [3, 5]


def test_the_mapping_is_guessed_from_the_header():
    header = ["交易日期", "摘要", "支出", "存入", "餘額", "備註"]
    assert csv_import.guess_mapping(header) == Mapping(
        date=0, withdrawal=2, deposit=3, payee=1, note=5
    )
    assert csv_import.guess_mapping(["Date", "Description", "Amount"]) == Mapping(
        date=0, amount=2, payee=1
    )


@pytest.mark.parametrize(
    "mapping",
    [
        Mapping(),
        Mapping(date=0),
        Mapping(date=0, amount=1, withdrawal=2, deposit=3),
        Mapping(date=0, withdrawal=2),
        Mapping(date=0, amount=0),
        Mapping(date=0, amount=9),
        Mapping(date=-1, amount=1),
        Mapping(date=0, amount=1, date_order="julian"),
    ],
)
def test_mappings_that_cannot_read_a_line_are_refused(mapping):
    with pytest.raises(BookInputError):
        csv_import.check_mapping(mapping, 4)


def _read(lines: str, mapping: Mapping, digits: int = 0, categories=None):
    table = csv_import.read_table("date,payee,out,in,amount,category\n" + lines)
    return csv_import.read_rows(table, mapping, digits, categories)


TWO = Mapping(date=0, payee=1, withdrawal=2, deposit=3)
SIGNED = Mapping(date=0, payee=1, amount=4, category=5)


def test_withdrawal_and_deposit_columns():
    result = _read('2026/12/01,a,120,0,,\n2026/12/02,b,-,"1,500",,\n', TWO)
    assert result.errors == []
    assert [(r.amount, r.is_expense, r.line) for r in result.rows] == [
        (120, True, 2),
        (1500, False, 3),
    ]


def test_a_signed_column_either_way_and_decimals():
    lines = "2026/12/01,a,,,-12.5,\n2026/12/02,b,,,(3.25),\n2026/12/03,c,,,１００,\n"
    result = _read(lines, SIGNED, digits=2)
    assert [r.signed for r in result.rows] == [-1250, -325, 10000]
    flipped = _read(lines, Mapping(date=0, payee=1, amount=4, negative_is_spending=False), 2)
    assert [r.signed for r in flipped.rows] == [1250, 325, -10000]


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("2026/12/01,a,,,abc,", "abc"),
        ("2026/12/01,a,,,0,", "0"),
        (",a,,,-5,", "empty"),
        ("2026/02/30,a,,,-5,", "2026/02/30"),
        ("2026/12/01,a,,,-1.5,", "decimals"),
        ("2026/12/01,a,,,-5,不存在", "不存在"),
        ("2026/12/01,a,,,99999999999999999,", "too large"),
    ],
)
def test_refused_lines_say_why_with_their_number(line, words):
    result = _read("2026/12/01,ok,,,-1,\n" + line + "\n", SIGNED, categories={})
    assert len(result.rows) == 1
    [error] = result.errors
    assert error.number == 3
    assert words in (error.message % error.params if error.params else error.message)


def test_both_or_neither_amount_column_is_refused():
    result = _read("2026/12/01,a,5,6,,\n2026/12/01,a,0,0.00,,\n", TWO)
    assert [e.number for e in result.errors] == [2, 3]


def test_categories_match_by_top_level_or_parent_and_child():
    keys = {"餐飲": 1, "餐飲/午餐": 2}
    lines = "2026/12/01,a,,,-1,餐飲\n2026/12/01,b,,,-1,餐飲 › 午餐\n2026/12/01,c,,,-1, 餐飲/午餐 \n"
    result = _read(lines, SIGNED, categories=keys)
    assert [r.category_id for r in result.rows] == [1, 2, 2]


def _row(payee: str, amount: int = 65, day: int = 5) -> ImportRow:
    return ImportRow(1, date(2026, 12, day), amount, True, payee)


def test_identical_lines_are_counted_not_collapsed():
    rows = [_row("50嵐"), _row("５０嵐"), _row("50嵐"), _row("other")]
    fp = csv_import.fingerprint(date(2026, 12, 5), -65, "50嵐")
    planned = csv_import.plan_duplicates(rows, 7, Counter({fp: 1}), set())
    refs = [p.source_ref for p in planned]
    assert refs[0] is None  # matches the one already in the account
    assert refs[1] == f"csv:7:{fp}#2" and refs[2] == f"csv:7:{fp}#3"
    assert refs[3] is not None and refs[3].startswith("csv:7:")
    again = csv_import.plan_duplicates(rows, 7, Counter({fp: 3}) + Counter(), set(refs[1:3]))
    assert [p.source_ref for p in again][:3] == [None, None, None]


def test_a_taken_reference_is_skipped():
    fp = csv_import.fingerprint(date(2026, 12, 5), -65, "x")
    planned = csv_import.plan_duplicates([_row("x")], 7, Counter(), {f"csv:7:{fp}#1"})
    assert planned[0].source_ref == f"csv:7:{fp}#2"


EXPORT = (
    "表頭=M|載具名稱|載具號碼|發票日期|商店統編|商店店名|發票號碼|總金額|發票狀態|\n"
    "明細=D|發票號碼|小計|品項名稱|\n"
    "M|手機條碼|/ABC1234|20261201|12345678|全家便利商店股份有限公司|AB12345678|120|開立|\n"
    "D|AB12345678|45|鮮乳|\n"
    "D|AB12345678|80|便當\n"
    "D|AB12345678|-5|折扣|\n"
    "D|AB12345678|0|購物袋|\n"
    "M|手機條碼|/ABC1234|20261202|12345678|全聯|CD12345678|99|作廢|\n"
    "D|CD12345678|99|x|\n"
    "M|手機條碼|/ABC1234|20261203|1|星巴克|EF12345678|150|開立|\n"
    "M|手機條碼|/ABC1234|20261201|12345678|全家便利商店股份有限公司|AB12345678|120|開立|\n"
    "M|手機條碼|/ABC1234|20261204|1|贈品|GH12345678|0|開立|\n"
)


def test_the_carrier_export_is_read_with_items_discounts_and_voids():
    parsed = einvoice.read_einvoices(EXPORT)
    assert parsed.errors == []
    first, coffee = parsed.invoices
    assert (first.number, first.occurred_on, first.total, first.line) == (
        "AB12345678",
        date(2026, 12, 1),
        120,
        3,
    )
    assert [(i.amount, i.name) for i in first.items] == [(45, "鮮乳"), (80, "便當"), (-5, "折扣")]
    assert coffee.items == [] and coffee.source_ref == "einvoice:EF12345678"
    assert [(s.line, s.reason) for s in parsed.skipped] == [
        (8, "voided"),
        (11, "repeated"),
        (12, "zero"),
    ]


def test_comma_separated_and_big5_copies_read_the_same():
    comma = EXPORT.replace("|", ",").replace(",\n", "\n")
    text = comma.encode("cp950").decode("cp950")
    assert einvoice.read_einvoices(text).invoices == einvoice.read_einvoices(EXPORT).invoices


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("D|ZZ12345678|10|孤兒|", "ZZ12345678"),
        ("M|手機條碼|/A|20261340|1|店|JK12345678|10|開立|", "20261340"),
        ("M|手機條碼|/A|20261205|1|店|JK12345678|abc|開立|", "abc"),
        ("M|手機條碼|/A|20261205|1|店|JK12345678|-10|開立|", "negative"),
        ("M|手機條碼|/A|20261205|1|店|JK123|10|開立|", "JK123"),
        ("M|手機條碼|/A|20261205|1|店|JK12345678|10|退貨|", "退貨"),
        ("M|手機條碼|/A|20261205", "9"),
        ("D|AB12345678", "4"),
        ("D|AB12345678|x|y|", "x"),
        ("Q|what|", "M"),
    ],
)
def test_bad_lines_of_an_export_are_named(extra, words):
    parsed = einvoice.read_einvoices(EXPORT + extra + "\n")
    errors = [e for e in parsed.errors if e.number == 13]
    assert len(errors) == 1, parsed.errors
    message = errors[0].message % errors[0].params if errors[0].params else errors[0].message
    assert words in message


def test_items_that_do_not_add_up_say_by_how_much():
    text = EXPORT.replace("D|AB12345678|-5|折扣|", "D|AB12345678|-15|折扣|")
    [error] = einvoice.read_einvoices(text).errors
    assert error.number == 3
    assert error.params["diff"] == "10" and error.params["total"] == "120"


def test_a_file_that_is_not_an_export_is_refused():
    with pytest.raises(ImportRefused):
        einvoice.read_einvoices("日期,金額\n2026/12/01,120\n")


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("全家便利商店股份有限公司", "全家便利商店"),
        ("路易莎職人咖啡有限公司", "路易莎職人咖啡"),
        ("星巴克", "星巴克"),
        ("有限公司", "有限公司"),
    ],
)
def test_store_names_are_shortened(name, short):
    assert einvoice.short_store_name(name) == short
