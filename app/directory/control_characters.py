"""Control and bidi formatting characters in a resource's string values: refused where a client sends them
(decisions 0066 and 0069).

JSON carries any control character escaped (RFC 8259 §7), and a SCIM string is any sequence of Unicode characters
(RFC 7643 §2.3.1), but a service provider need not keep a value it cannot store or show faithfully (RFC 7644
§3.12, ``invalidValue``). A NUL ends a C string at a target's database driver or in a PDF; ESC starts a terminal
sequence in an operator's shell reading an export; the others (BEL, backspace, vertical tab…) have no place in a
name, a title or an address and are never what an identity provider's admin typed. TAB, LF and CR are text (a
multi-line address) and are kept. DEL and the C1 controls (U+0080–U+009F) go the same way: U+009B is a terminal's
CSI, as ESC [ is, and none is text. The bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) make
a name display reversed or spill its direction into the text around it ("Trojan Source"); a right-to-left name needs
none of them, and the marks LRM, RLM and ALM, which reorder nothing beyond themselves, stay. ``userName`` is checked
more strictly still (app/directory/identity_strings.py).

The check runs on the document about to be stored, so POST, PUT, PATCH (any path form, a path-less value, a
filtered path) and their Bulk forms meet the same rule. A value stored before the rule is kept while it stays as
it is: a PUT or PATCH that leaves it unchanged is not refused for it, so one stored value does not block every
later update of that person. Messages name the attribute and the code point, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from app.directory.errors import invalid_value

# C0 controls but TAB (09), LF (0A) and CR (0D); DEL and C1 (decision 0066); bidi embeddings, overrides, isolates
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_BIDI = "\u202a-\u202e\u2066-\u2069"
_REFUSED = re.compile(f"[{_CONTROLS}{_BIDI}]")
_IS_BIDI = re.compile(f"[{_BIDI}]")


def refuse_control_characters(document: dict[str, Any], previous: dict[str, Any]) -> None:
    """400 ``invalidValue`` naming the first attribute of ``document`` whose value holds a refused control
    character, unless ``previous`` (the resource as stored; empty for a create) holds that value there already."""
    kept = set(_with_controls(previous))
    for path, value in _with_controls(document):
        if (path, value) in kept:
            continue
        raise invalid_value(_refusal(path, value))


def _refusal(path: str, value: str) -> str:
    """The message for the first refused character of ``value``: its kind and code point, never the value."""
    found = _REFUSED.search(value)
    character = found.group() if found else "\x00"
    if _IS_BIDI.fullmatch(character):
        return (
            f"'{path}' holds the bidirectional formatting character U+{ord(character):04X}, which Custos does not "
            "store (embeddings, overrides and isolates make text display in another order than it is written; "
            "right-to-left names need none); nothing was stored."
        )
    return (
        f"'{path}' holds the control character U+{ord(character):04X}, which Custos does not store (control "
        "characters other than tab, line feed and carriage return are refused in every string value); nothing was "
        "stored."
    )


def _with_controls(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(attribute path, string) for every string in ``document`` holding a refused control character, in the
    document's order. Paths are in SCIM's notation without a multi-valued attribute's index: ``name.givenName``,
    ``emails.value``, an extension's attribute as its schema URN and name joined by ``:``."""
    for key, value in document.items():
        yield from _walk(value, key, ":" if key.lower().startswith("urn:") else ".")


def _walk(value: Any, path: str, separator: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if _REFUSED.search(value):
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}{separator}{key}", ".")
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, path, separator)
