"""Languages: Traditional Chinese by default, English on request, the choice kept on the
user and in the session; numbers and dates formatted for the locale and the clan timezone;
every message in the code has a Traditional Chinese translation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask import g, render_template_string
from flask_babel import refresh

from clanledger.extensions import db
from clanledger.models import User

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "clanledger"
CATALOGUES = PACKAGE / "translations"


def test_traditional_chinese_is_the_default(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="zh-Hant-TW">' in html and "登入" in html and "帳號" in html


def test_anonymous_choice_lives_in_the_session(client):
    client.post("/lang", data={"locale": "en", "next": "/auth/login"})
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "Username" in html
    assert client.post("/lang", data={"locale": "xx"}).status_code == 302
    assert "Username" in client.get("/auth/login").get_data(as_text=True)  # unchanged


def test_signed_in_choice_is_stored_on_the_user_and_follows_them(
    app, client, make_user, login, user_password
):
    user = make_user("lee")
    login(user)
    client.post("/lang", data={"locale": "en", "next": "/"})
    db.session.refresh(user)
    assert user.locale == "en"
    other_device = app.test_client()
    other_device.post("/auth/login", data={"username": "lee", "password": user_password})
    assert "My clans" in other_device.get("/").get_data(as_text=True)


def test_english_registration_stores_english(client):
    client.post("/lang", data={"locale": "en"})
    client.post(
        "/auth/register",
        data={"username": "eng", "display_name": "E", "password": "x" * 10, "confirm": "x" * 10},
    )
    assert db.session.query(User).filter_by(username="eng").one().locale == "en"


@pytest.mark.parametrize(("locale", "expected"), [("zh_Hant", "1,234,567"), ("en", "1,234,567")])
def test_diamonds_have_thousands_separators(app, locale, expected):
    with app.test_request_context():
        from flask import session

        session["locale"] = locale
        assert render_template_string("{{ 1234567 | diamonds }}") == expected
        assert render_template_string("{{ -5000 | diamonds }}") == "-5,000"
        assert render_template_string("{{ none | diamonds }}") == "–"
        with pytest.raises(TypeError, match="integers"):
            render_template_string("{{ 1.5 | diamonds }}")


def test_rates_dates_and_times_follow_locale_and_clan_timezone(app, make_clan):
    clan = make_clan(timezone="Asia/Taipei")
    moment = datetime(2026, 10, 31, 17, 30, tzinfo=UTC)  # already 1 November in Taipei
    with app.test_request_context():
        from flask import session

        g.clan = clan
        assert render_template_string("{{ 500 | percent_bps }}") == "5%"
        assert render_template_string("{{ 125 | percent_bps }}") == "1.25%"
        assert render_template_string("{{ m | time }}", m=moment) == "01:30"
        assert render_template_string("{{ m | date }}", m=moment) == "2026年11月1日"
        session["locale"] = "en"
        refresh()  # Flask-Babel caches the locale for the request
        assert render_template_string("{{ m | date }}", m=moment) == "Nov 1, 2026"


def _catalogue(locale: str):
    with open(CATALOGUES / locale / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=locale)


def test_every_message_in_the_code_has_a_traditional_chinese_translation():
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None,
                "lazy_gettext": None, "N_": None}  # fmt: skip
    found = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map, keywords=keywords
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, filename)
    catalogue = _catalogue("zh_Hant")
    missing = []
    for msgid, filename in sorted(found.items()):
        entry = catalogue.get(msgid)
        strings = entry.string if entry is not None else ""
        translated = all(strings) if isinstance(strings, tuple) else bool(strings)
        if entry is None or not translated or entry.fuzzy:
            missing.append(f"{filename}: {msgid!r}")
    assert not missing, (
        "untranslated messages (pybabel extract + update, then fill msgstr; see babel.cfg):\n"
        + "\n".join(missing)
    )


def test_english_catalogue_has_the_same_messages():
    zh = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalogue("zh_Hant") if m.id}
    en = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalogue("en") if m.id}
    assert zh - en == set()


@pytest.mark.parametrize("locale", ["zh_Hant", "en", "de", "fr", "hi"])
def test_diamonds_match_babel_formatting_in_every_locale(app, locale):
    """The fast formatter gives Babel's text (separator, minus sign, grouping)."""
    from babel.numbers import format_decimal
    from flask_babel import force_locale

    from clanledger.i18n import format_diamonds

    amounts = [0, 7, 999, 1000, -1000, 12_345, -987_654_321, 10**15]
    with app.test_request_context(), force_locale(locale):
        for amount in amounts:
            assert format_diamonds(amount) == format_decimal(amount, "#,##0", locale=locale)
