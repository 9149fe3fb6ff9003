"""The one check every entry point (SCIM bodies, command-line text) uses before text reaches the store."""

from __future__ import annotations

from app.core.surrogates import has_lone_surrogate


def test_lone_surrogates_are_found_and_text_is_not() -> None:
    assert has_lone_surrogate("caf\udce9")  # a Latin-1 byte from the command line, as surrogateescape decodes it
    assert has_lone_surrogate("\ud800 high alone")
    assert not has_lone_surrogate("José 😀 ΣΑΣ")  # a pair is one character in a str, not a lone surrogate
    assert not has_lone_surrogate("plain")
