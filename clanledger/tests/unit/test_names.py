"""Names: one written form, nothing invisible, look-alikes collide."""

import pytest

from clanledger.domain.names import InvalidName, clean_name, name_key


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("  夜風  ", "夜風"), ("Ｂｏｂ", "Bob"), ("ｶﾀｶﾅ", "カタカナ"), ("Dark Elf", "Dark Elf")],
)
def test_names_are_normalised(typed, stored):
    assert clean_name(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["B\u200bob", "\u202eboB", "Bob\u200d", "\ufeffBob", "Bob\x07", "", "   ", "x" * 65],
)
def test_invisible_characters_empty_and_long_names_are_refused(typed):
    with pytest.raises(InvalidName):
        clean_name(typed)


def test_look_alikes_share_a_key():
    assert name_key("Ｂｏｂ") == name_key("bob") == name_key("BOB")
    assert name_key("Straße") == name_key("STRASSE")
    assert name_key("夜風") != name_key("夜風二號")
