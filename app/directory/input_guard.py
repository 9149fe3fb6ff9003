"""Checks on client values that no later layer can make sense of: refused where they arrive, never a 500.

* An unpaired surrogate (JSON ``"\\ud800"``) decodes to a Python ``str`` that is not Unicode: it cannot be
  encoded as UTF-8, so SQLite, the audit trail and the response writer all fail on it.
* An integer outside SQLite's signed 64-bit range cannot be bound as a parameter (``OverflowError``): cursors
  are checked against INT64_MIN/INT64_MAX, and paging clamps to it (app/directory/query.py).
* ``NaN`` and ``Infinity`` are not JSON (RFC 8259 §6), although Python's parser accepts them.
* A name given twice in one JSON object, also in another case (SCIM names are case-insensitive, RFC 7643
  §2.1), is ambiguous: each layer picks its own. Found from outside: with ``Operations`` (one operation) and
  ``operations`` (1,500), the PATCH limit read the first and the patch applied the second.
* Work that runs inside the single writer is bounded by what the body holds, not only by its size: PATCH
  operations per request (Bulk included) and values per multi-valued attribute. Under the 1 MiB body limit one
  PATCH of 8,000 filtered operations held the writer 13 s, and 100 filtered operations on a user holding 20,000
  e-mail addresses 19 s; past the vault's 10 s busy timeout every other writer (the audit recorder included)
  failed. The values cap holds for what a resource keeps, not only for one request: a PATCH's result is checked
  too (``add`` appends). A Group's ``members`` is not capped here (groups are large by nature; membership is indexed).

Messages name where the value was found, never the value (it may be personal data).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.core.surrogates import has_lone_surrogate
from app.directory.errors import ScimError, invalid_syntax, invalid_value
from app.directory.schema import GROUP_SCHEMA

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_PATCH_OPERATIONS = 1000  # per request, all of a Bulk's PATCH operations together (as many as a Bulk may hold)
MAX_VALUES_PER_ATTRIBUTE = 100  # values of one multi-valued attribute of a resource (emails, phoneNumbers, …)
_UNCAPPED = ("members", "schemas")
# A Group's members named in full, as a path-less PATCH value's key may name them ({"urn:…:Group:members": [...]}).
_GROUP_PREFIX = f"{GROUP_SCHEMA.lower()}:"


def has_unpaired_surrogate(value: Any) -> bool:
    """Whether any string in a decoded JSON value, key or value, holds a lone UTF-16 surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if has_lone_surrogate(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def refuse_unpaired_surrogates(value: Any, where: str, error: Callable[[str], ScimError] = invalid_value) -> None:
    if has_unpaired_surrogate(value):
        raise error(f"{where} holds an unpaired UTF-16 surrogate, which is not Unicode text; nothing was done.")


def refuse_repeated_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for :func:`json.loads`: an object naming a member twice (in any case) is refused."""
    found = dict(pairs)
    if len(found) != len(pairs) or len({name.lower() for name in found}) != len(found):
        raise invalid_syntax("A JSON object in the body names the same attribute twice (names ignore case).")
    return found


def refuse_json_constant(name: str) -> Any:
    """``parse_constant`` for :func:`json.loads`: ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON."""
    raise invalid_syntax(f"The body holds {name}, which is not a JSON number.")


def patch_operations(body: Any) -> list[Any]:
    """The operations of a PATCH body as sent (either key case), or an empty list when there are none."""
    if not isinstance(body, dict):
        return []
    operations = next((value for key, value in body.items() if key.lower() == "operations"), None)
    return operations if isinstance(operations, list) else []


def refuse_too_many_patch_operations(count: int) -> None:
    if count > MAX_PATCH_OPERATIONS:
        raise ScimError(413, f"A request holds at most {MAX_PATCH_OPERATIONS} PATCH operations (Bulk included).")


def refuse_oversized_patch(body: Any) -> None:
    """A PATCH whose work is bounded: at most MAX_PATCH_OPERATIONS, none adding an oversized attribute."""
    operations = patch_operations(body)
    refuse_too_many_patch_operations(len(operations))
    for operation in operations:
        if not isinstance(operation, dict):
            continue
        path = next((v for k, v in operation.items() if k.lower() == "path"), None)
        value = next((v for k, v in operation.items() if k.lower() == "value"), None)
        head = path.split("[", 1)[0].rsplit(":", 1)[-1].split(".", 1)[0] if isinstance(path, str) else None
        if isinstance(value, list) and head is not None:
            _refuse_long(head, value)
        elif isinstance(value, dict):
            refuse_oversized_values(value)


def refuse_oversized_values(body: dict[str, Any]) -> None:
    """No multi-valued attribute (core or in an extension's block) holds more than MAX_VALUES_PER_ATTRIBUTE."""
    for key, value in body.items():
        if isinstance(value, list):
            _refuse_long(key, value)
        elif isinstance(value, dict) and key.lower().startswith("urn:"):
            for name, inner in value.items():
                if isinstance(inner, list):
                    _refuse_long(name, inner)


def refuse_grown_values(before: dict[str, Any], after: dict[str, Any]) -> None:
    """A PATCH leaves no multi-valued attribute longer than MAX_VALUES_PER_ATTRIBUTE unless it was already.

    The request's own values are bounded before the writer is taken (:func:`refuse_oversized_patch`), but ``add``
    appends: 60 e-mail addresses added twice, or 1,000 operations adding one each, grew a user past the cap a
    request at a time, and the cap is on what a resource holds (filtered operations on it run inside the writer).
    ``after`` is the patched document with canonical names; a list that did not grow is left alone.
    """
    for name, values, previous in _lists(before, after):
        if len(values) > MAX_VALUES_PER_ATTRIBUTE and len(values) > len(previous):
            _refuse_long(name, values)


def _lists(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, list[Any], list[Any]]]:
    """Each list of ``after`` (core, or in an extension's block) with the same attribute's list in ``before``."""
    found: list[tuple[str, list[Any], list[Any]]] = []
    for key, value in after.items():
        old = before.get(key)
        if isinstance(value, list):
            found.append((key, value, old if isinstance(old, list) else []))
        elif isinstance(value, dict) and key.lower().startswith("urn:"):
            block = old if isinstance(old, dict) else {}
            found.extend(_lists(block, {name: inner for name, inner in value.items() if isinstance(inner, list)}))
    return found


def _refuse_long(name: str, values: list[Any]) -> None:
    """400 when a capped attribute holds too many values. ``members`` is uncapped by its short or full name: a
    path-less add of 117 members under ``urn:…:Group:members`` was refused where ``members`` was accepted."""
    if name.lower().removeprefix(_GROUP_PREFIX) not in _UNCAPPED and len(values) > MAX_VALUES_PER_ATTRIBUTE:
        where = name[:64] if name.isascii() and name.isprintable() else "an attribute"
        limit = MAX_VALUES_PER_ATTRIBUTE
        raise invalid_value(f"'{where}' holds {len(values)} values; at most {limit} per attribute. Nothing was stored.")
