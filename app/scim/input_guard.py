"""Checks on client values that no later layer can make sense of: refused where they arrive, never a 500.

* An unpaired surrogate (JSON ``"\\ud800"``) decodes to a Python ``str`` that is not Unicode: it cannot be
  encoded as UTF-8, so SQLite, the audit trail and the response writer all fail on it.
* An integer outside SQLite's signed 64-bit range cannot be bound as a parameter (``OverflowError``): cursors
  are checked against INT64_MIN/INT64_MAX, and paging clamps to it (app/scim/query.py).
* ``NaN`` and ``Infinity`` are not JSON (RFC 8259 §6), although Python's parser accepts them.

Messages name where the value was found, never the value (it may be personal data).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.scim.errors import ScimError, invalid_syntax, invalid_value

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def has_unpaired_surrogate(value: Any) -> bool:
    """Whether any string in a decoded JSON value, key or value, holds a lone UTF-16 surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and _lone_surrogate(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def refuse_unpaired_surrogates(value: Any, where: str, error: Callable[[str], ScimError] = invalid_value) -> None:
    if has_unpaired_surrogate(value):
        raise error(f"{where} holds an unpaired UTF-16 surrogate, which is not Unicode text; nothing was done.")


def refuse_json_constant(name: str) -> Any:
    """``parse_constant`` for :func:`json.loads`: ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON."""
    raise invalid_syntax(f"The body holds {name}, which is not a JSON number.")
