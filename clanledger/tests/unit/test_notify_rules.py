"""Webhook rules: where a webhook may point, how a long Discord message is split, and the
signature a receiver checks."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clanledger.domain.errors import DomainError
from clanledger.domain.notify import check_url, sign, split_message


@pytest.mark.parametrize(
    "url",
    [
        "https://discord.com/api/webhooks/1/abc",
        "http://bot.example.org:8080/line",
        "  https://93.184.216.34/hook  ",
    ],
)
def test_public_http_addresses_are_accepted(url):
    assert check_url(url, allow_internal=False) == url.strip()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost:5000/x",
        "http://[::1]/x",
        "http://10.0.0.8/x",
        "http://192.168.1.2/x",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/x",
        "http://printer.local/x",
        "http://db.internal/x",
    ],
)
def test_internal_targets_need_the_setting(url):
    with pytest.raises(DomainError, match="network"):
        check_url(url, allow_internal=False)
    assert check_url(url, allow_internal=True) == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://example.com/x",
        "javascript:alert(1)",
        "example.com/x",
        "http://",
        "https://[::1/x",
        "http://a:99999/x",
    ],
)
def test_not_a_web_address_is_refused(url):
    with pytest.raises(DomainError):
        check_url(url, allow_internal=True)


def test_a_long_address_is_refused():
    with pytest.raises(DomainError, match="500"):
        check_url("https://example.com/" + "a" * 500, allow_internal=False)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = '{"text": "夜風"}'.encode()
    expected = hmac.new(b"k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("k", 1700000000, body) == f"sha256={expected}"


def test_a_short_message_is_one_piece():
    assert split_message("夜風：請以 2,413 上架") == ["夜風：請以 2,413 上架"]


def test_a_long_plan_is_split_at_line_ends():
    lines = [f"line {i:04d} " + "x" * 40 for i in range(100)]
    pieces = split_message("\n".join(lines), limit=2000)
    assert len(pieces) > 1 and all(len(p) <= 2000 for p in pieces)
    assert "\n".join(pieces).splitlines() == lines  # nothing lost, no line cut


@given(st.text(alphabet="ab \n星", max_size=600), st.integers(min_value=5, max_value=50))
def test_pieces_fit_and_keep_every_character(text, limit):
    pieces = split_message(text, limit=limit)
    assert all(len(p) <= limit for p in pieces)
    assert all(p.strip() for p in pieces) or not text.strip()
    squeeze = str.maketrans("", "", " \n")
    assert "".join(pieces).translate(squeeze) == text.translate(squeeze)
