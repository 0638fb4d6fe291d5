"""Memos the app writes are shown in the reader's language; a person's memo as typed."""

import pytest
from flask_babel import force_locale

from clanledger import create_app
from clanledger.i18n import format_memo


@pytest.fixture
def app_context():
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "t"})
    with app.test_request_context():
        yield


def test_app_memos_in_words(app_context):
    with force_locale("zh_Hant"):
        assert format_memo("transfer 3") == "轉帳 #3"
        assert "期初餘額" in format_memo("opening balances from 2026-11")
        assert "2026" in format_memo("opening balances from 2026-11")
        assert "重新開帳" in format_memo("reopen 2026-10")
    with force_locale("en"):
        assert format_memo("transfer 3") == "Transfer #3"
    assert format_memo("refund for the broken sword") == "refund for the broken sword"
    assert format_memo(None) == ""
