"""The strength estimate behind the meter: conservative for words, runs and the passwords guessers try first."""

from __future__ import annotations

from app.core.passphrase_strength import estimate


def test_common_passwords_and_runs_are_weak() -> None:
    for text in ("password", "Password", "aaaaaaaaaaaaaaaa", "1234567890123", "abcdefghijklmnop", ""):
        assert estimate(text).level == "weak", text


def test_words_are_rated_by_the_word_not_by_the_letter() -> None:
    four_words = estimate("correct horse battery staple")
    assert four_words.bits == 44.0 and four_words.level == "fair"
    assert estimate("correct horse battery staple orbit cabin avenue").level == "good"


def test_random_characters_of_every_class_are_strong() -> None:
    strength = estimate("vX7#qL9!mR2@wT4$")
    assert strength.level == "strong" and strength.percent == 100


def test_more_length_never_lowers_the_estimate() -> None:
    text = "Tr0ub4dor&3"
    assert estimate(text + "x9").bits > estimate(text).bits
