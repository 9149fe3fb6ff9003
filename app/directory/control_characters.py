"""C0 control characters in a resource's string values: refused where a client sends them (decision 0066).

JSON carries any control character escaped (RFC 8259 §7), and a SCIM string is any sequence of Unicode characters
(RFC 7643 §2.3.1), but a service provider need not keep a value it cannot store or show faithfully (RFC 7644
§3.12, ``invalidValue``). A NUL ends a C string at a target's database driver or in a PDF; ESC starts a terminal
sequence in an operator's shell reading an export; the others (BEL, backspace, vertical tab…) have no place in a
name, a title or an address and are never what an identity provider's admin typed. TAB, LF and CR are text (a
multi-line address) and are kept. ``userName`` is checked more strictly still (app/directory/identity_strings.py).

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

_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # C0 controls but TAB (09), LF (0A) and CR (0D)


def refuse_control_characters(document: dict[str, Any], previous: dict[str, Any]) -> None:
    """400 ``invalidValue`` naming the first attribute of ``document`` whose value holds a refused control
    character, unless ``previous`` (the resource as stored; empty for a create) holds that value there already."""
    kept = set(_with_controls(previous))
    for path, value in _with_controls(document):
        if (path, value) in kept:
            continue
        found = _REFUSED.search(value)
        code_point = f"U+{ord(found.group()):04X}" if found else "a control character"
        raise invalid_value(
            f"'{path}' holds the control character {code_point}, which Custos does not store (C0 control characters "
            "other than tab, line feed and carriage return are refused in every string value); nothing was stored."
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
