"""Identity strings (userName): what may be one, when two are the same, and when one imitates another.

PRECIS (RFC 8264) is the IETF's answer to "are these two identifiers the same?". Custos uses the Nickname
profile of RFC 8266 with case folding (``NicknameCaseMapped:CaseFold`` from precis-i18n) because SCIM
userNames in the field hold spaces, '@', '\\' and other symbols that the stricter Username profiles of RFC 8265
refuse. The profile maps full-width and compatibility forms and runs of spaces, folds case (final sigma too)
and normalises to NFKC, so "josé" (NFC) and "jose\u0301" (NFD), "ab" and "ａｂ", "ΣΑΣ" and "σας" get one key;
that key is what the unique index compares (``scim_resources.user_name_ci``) and what ``userName`` filters
compare. The same profile refuses control characters, NUL, bidi overrides and every invisible (default
ignorable) code point, so an identifier can be neither invisible nor re-ordered on screen.

Look-alikes across scripts (a Cyrillic "раураl" for "paypal") are not the same identifier under PRECIS and
must not be merged; :func:`describe` says when a name mixes scripts or reads as Latin while not being Latin,
so that the app can show it as such. Qt-free: the UI only renders what this returns.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from precis_i18n import get_profile

from app.directory.errors import ScimError, invalid_value

_PROFILE = get_profile("NicknameCaseMapped:CaseFold")
# No directory issues longer names (e-mail addresses stop at 254, Entra UPNs at 113); the PRECIS pass costs about
# 1 s per million characters, which a 1 MiB Bulk of long names would otherwise spend on one request.
MAX_USER_NAME_LENGTH = 1024
_NEUTRAL_SCRIPTS = frozenset({"COMMON", "INHERITED"})


class IdentifierRefused(ValueError):
    """Why an identity string cannot be one; ``reason`` never quotes the string."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def comparison_key(name: str) -> str:
    """The form two userNames are compared in; raises IdentifierRefused for a string PRECIS disallows."""
    if name.isascii() and name.isprintable():
        return _printable_ascii_key(name)
    try:
        return str(_PROFILE.enforce(name))
    except UnicodeEncodeError as exc:
        if exc.reason.endswith("empty"):
            raise IdentifierRefused("it is empty once spaces are trimmed") from None
        position = exc.start
        code_point = f"U+{ord(name[position]):04X}" if 0 <= position < len(name) else "a character"
        kind = exc.reason.split("/", 1)[-1].replace("_", " ")
        raise IdentifierRefused(f"{code_point} at position {position + 1} is not allowed ({kind})") from None
    except ValueError:
        raise IdentifierRefused("it is empty once spaces are trimmed") from None


def _printable_ascii_key(name: str) -> str:
    """The profile's answer for printable ASCII (U+0020–U+007E), without its per-code-point pass.

    Nearly every userName an IdP sends is printable ASCII, and the full pass cost as much as the rest of a lookup
    together. For these code points the profile's rules reduce to: every one is allowed (FreeformClass), spaces
    are trimmed and runs of them become one, case folds to lower case, and NFKC changes nothing.
    tests/scim/test_identity_strings.py holds this equal to the profile for every such code point and pair.
    """
    key = " ".join(part for part in name.lower().split(" ") if part)
    if not key:
        raise IdentifierRefused("it is empty once spaces are trimmed")
    return key


def lookup_key(value: str) -> str:
    """The key to search with: :func:`comparison_key`, or the same mappings for a string it refuses.

    A filter value may hold what an identifier may not (it then matches nothing stored since this release);
    names stored by earlier releases may too, and the migration gave them this key.
    """
    try:
        return comparison_key(value)
    except IdentifierRefused:
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
        return " ".join(folded.split())


def check_user_name(name: str) -> str:
    """``name``'s comparison key, or 400 invalidValue saying which code point is refused (never the name)."""
    if len(name) > MAX_USER_NAME_LENGTH:
        raise _refusal(f"it is longer than {MAX_USER_NAME_LENGTH} characters")
    try:
        return comparison_key(name)
    except IdentifierRefused as refused:
        raise _refusal(refused.reason) from None


def _refusal(reason: str) -> ScimError:
    return invalid_value(
        f"'userName' cannot be used as an identifier: {reason}. Control, invisible and direction-changing "
        "characters are refused (RFC 8264); nothing was stored."
    )


@dataclass(frozen=True)
class IdentityFlags:
    """What an operator should know about how a name looks; ``looks_like`` is its Latin reading, if any."""

    scripts: frozenset[str]
    mixed_script: bool
    imitates_latin: bool
    looks_like: str | None

    @property
    def suspicious(self) -> bool:
        return self.mixed_script or self.imitates_latin


def describe(name: str) -> IdentityFlags:
    """Scripts used by ``name``, and whether it mixes them or passes for Latin text (Unicode confusables).

    Looks at the first MAX_USER_NAME_LENGTH characters: names stored before that limit may be longer.
    """
    from confusable_homoglyphs import categories, confusables  # loads its tables: only when a name is described

    name = name[:MAX_USER_NAME_LENGTH]
    scripts = frozenset(categories.unique_aliases(name)) - _NEUTRAL_SCRIPTS
    mixed = len(scripts) > 1
    lookalikes = confusables.is_confusable(name, greedy=True, preferred_aliases=["latin", "common"]) or []
    latin_for = {item["character"]: _latin_glyph(item["homoglyphs"]) for item in lookalikes}
    foreign = {char for char in name if categories.alias(char) not in _NEUTRAL_SCRIPTS | {"LATIN"}}
    # Every non-Latin letter has a Latin twin: the whole name reads as a Latin one it is not.
    imitates = bool(foreign) and all(latin_for.get(char) for char in foreign)
    looks_like = "".join(latin_for.get(char) or char for char in name) if imitates else None
    return IdentityFlags(scripts, mixed, imitates, looks_like)


def _latin_glyph(homoglyphs: list[dict[str, str]]) -> str | None:
    for glyph in homoglyphs:
        text = glyph.get("c", "")
        if text and text.isascii() and text.isprintable():  # a twin on every keyboard, not a rare Latin letter
            return text
    return None
