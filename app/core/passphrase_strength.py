"""A rough, conservative strength estimate for a new passphrase (no dependency, no network, nothing stored).

Not zxcvbn: it counts what an attacker's cheapest model would need to guess. A passphrase of common words is
rated by its words (about 11 bits each, a 2,000-word list), not by its letters, so "correct horse battery staple"
gets the ~44 bits the comic gives it rather than 130. Runs and repeats ("aaaa", "1234", "abcd") count once.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

BITS_PER_COMMON_WORD = 11.0  # log2 of a 2,000-word list
LEVELS = ((40.0, "weak"), (60.0, "fair"), (80.0, "good"))  # below each bound; at or above the last: "strong"
# The handful a guesser tries first, whatever their length; a full list would be a dependency for little gain.
COMMON = frozenset(
    {
        "password", "passwort", "motdepasse", "qwertyuiop", "1234567890", "0123456789", "iloveyou", "letmein",
        "welcome", "administrator", "changeme", "trustno1", "passw0rd", "sunshine", "princess", "football",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Strength:
    bits: float
    level: str  # "weak", "fair", "good", "strong"

    @property
    def percent(self) -> int:
        """For a meter: 100 at 100 bits and above."""
        return max(0, min(100, round(self.bits)))


def _pool(text: str) -> int:
    size = 0
    if re.search(r"[a-z]", text):
        size += 26
    if re.search(r"[A-Z]", text):
        size += 26
    if re.search(r"[0-9]", text):
        size += 10
    if re.search(r"[^a-zA-Z0-9]", text):
        size += 33
    return size


def _effective_length(text: str) -> int:
    """Characters that add information: a repeat of the previous one, or the next in a run (a→b, 1→2), adds none."""
    length = 0
    for index, char in enumerate(text):
        if index and (char == text[index - 1] or abs(ord(char) - ord(text[index - 1])) == 1):
            continue
        length += 1
    return length


def _word_bits(text: str) -> float | None:
    """Words made of letters only, separated by spaces, dashes, dots or underscores: rated per word."""
    words = [word for word in re.split(r"[\s\-_.]+", text) if word]
    if len(words) < 2 or not all(word.isalpha() for word in words):
        return None
    return len(words) * BITS_PER_COMMON_WORD


def estimate(passphrase: str) -> Strength:
    if not passphrase or passphrase.lower() in COMMON:
        return Strength(0.0, "weak")
    bits = _effective_length(passphrase) * math.log2(max(_pool(passphrase), 2))
    words = _word_bits(passphrase)
    if words is not None:
        bits = min(bits, words)
    level = next((name for bound, name in LEVELS if bits < bound), "strong")
    return Strength(round(bits, 1), level)
