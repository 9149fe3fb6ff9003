"""Identity strings (app/directory/identity_strings.py): one comparison key per name, refused identifiers, and the
flags the app shows for names that imitate others."""

from __future__ import annotations

import pytest

from app.directory.errors import ScimError
from app.directory.identity_strings import (
    MAX_USER_NAME_LENGTH,
    IdentifierRefused,
    check_user_name,
    comparison_key,
    describe,
    lookup_key,
)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("josé", "jose\u0301"),  # NFC and NFD
        ("ab", "ａｂ"),  # full-width
        ("ΣΑΣ", "σασ"),  # final sigma: lower() keeps "σας", case folding does not
        ("Straße", "STRASSE"),
        ("alice@example.com", "ALICE@EXAMPLE.COM"),
        ("john smith", " John\u00a0 Smith "),  # non-ASCII space, runs of spaces, trimmed
        ("ﬁle", "file"),  # compatibility ligature
    ],
)
def test_spellings_of_one_name_share_a_key(one: str, other: str) -> None:
    assert comparison_key(one) == comparison_key(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [("paypal", "раураl"), ("admin", "аdmin"), ("ab", "a b")],  # look-alikes across scripts stay distinct
)
def test_look_alikes_are_not_merged(one: str, other: str) -> None:
    assert comparison_key(one) != comparison_key(other)


@pytest.mark.parametrize(
    ("name", "code_point"),
    [
        ("\u200b", "U+200B"),  # zero-width space only
        ("\ufeff\u2060", "U+FEFF"),
        ("evil\u202egpj.exe", "U+202E"),  # right-to-left override
        ("a\u2066b", "U+2066"),  # isolate
        ("ab\x00c", "U+0000"),
        ("ab\x1bc", "U+001B"),
        ("ab\nc", "U+000A"),
        ("\u3164", "U+3164"),  # Hangul filler: looks empty
    ],
)
def test_invisible_control_and_bidi_characters_are_refused(name: str, code_point: str) -> None:
    with pytest.raises(ScimError) as refused:
        check_user_name(name)
    assert refused.value.status == 400 and refused.value.scim_type == "invalidValue"
    assert code_point in refused.value.detail
    assert name not in refused.value.detail


def test_blank_and_overlong_names_are_refused_and_lookup_never_raises() -> None:
    with pytest.raises(ScimError):
        check_user_name("   ")
    check_user_name("a" * MAX_USER_NAME_LENGTH)
    with pytest.raises(ScimError) as long:
        check_user_name("a" * (MAX_USER_NAME_LENGTH + 1))
    assert "longer than" in long.value.detail
    assert lookup_key("A\u200bB") == "a\u200bb"  # a filter value may hold what a name may not; it matches nothing
    assert lookup_key("ＡＢ") == "ab"


@pytest.mark.parametrize(
    ("name", "mixed", "imitates", "looks_like"),
    [
        ("paypal", False, False, None),
        ("раураl", True, True, "paypal"),  # Cyrillic р, а, у with a Latin l
        ("раура", False, True, "paypa"),  # all Cyrillic, every letter has a Latin twin
        ("аdmin@example.com", True, True, "admin@example.com"),
        ("josé@example.com", False, False, None),
        ("Δημήτρης", False, False, None),  # a Greek name is Greek, not an imitation
        ("Вася", False, False, None),
        ("alice.δ", True, False, None),  # mixed, but δ does not pass for a Latin letter
    ],
)
def test_describe_flags_names_that_pass_for_others(
    name: str, mixed: bool, imitates: bool, looks_like: str | None
) -> None:
    flags = describe(name)
    assert (flags.mixed_script, flags.imitates_latin, flags.looks_like) == (mixed, imitates, looks_like)
    assert flags.suspicious == (mixed or imitates)


def _profile_key(name: str) -> str | None:
    """The PRECIS profile's own answer (the oracle the ASCII shortcut must equal), or None when it refuses."""
    from precis_i18n import get_profile

    try:
        return str(get_profile("NicknameCaseMapped:CaseFold").enforce(name))
    except (UnicodeEncodeError, ValueError):
        return None


def _shortcut_key(name: str) -> str | None:
    try:
        return comparison_key(name)
    except IdentifierRefused:
        return None


def test_the_printable_ascii_shortcut_is_the_profile() -> None:
    """comparison_key takes a shortcut for printable ASCII: for every such code point, every pair of them, runs of
    spaces at either end and inside, and random names, its key (or its refusal) is the PRECIS profile's."""
    import random

    printable = [chr(code) for code in range(0x20, 0x7F)]
    names = printable + [a + b for a in printable for b in printable]
    names += ["  Ab  ", "a  b", " ", "   ", "A B  C", " x", "y ", "Jane.Doe@Example.COM", "DOMAIN\\User Name"]
    rng = random.Random(8266)
    names += ["".join(rng.choice(printable + [" "] * 8) for _ in range(rng.randrange(1, 40))) for _ in range(3000)]
    assert all(name.isascii() and name.isprintable() for name in names)
    different = [name for name in names if _shortcut_key(name) != _profile_key(name)]
    assert different == []


def test_outside_printable_ascii_the_profile_decides() -> None:
    for name in ("ＡＢ", "josé", "tab\there", "del\x7f", "ΣΑΣ"):  # full width, accents, controls, Greek
        assert _shortcut_key(name) == _profile_key(name)
