"""Multi-valued attributes without repeated values, as the mirror stores them.

RFC 7643 §2.4: a service provider SHOULD NOT return the same (type, value) combination more than once per
attribute; RFC 7644 §3.5.2.1: a PATCH ``add`` of a value already there changes nothing. scim2-models applies the
second to an element equal in every sub-attribute, but appends one that repeats a (value, type) with another
``primary``, and a POST or PUT listing an email twice was stored, served and indexed twice. A repeated element
is dropped here, before the document is compared with the stored one and written: a request that only repeats
what is stored changes nothing, so it gets no new version.

Two elements are the same when their ``value`` and ``type`` are, each compared as the schema says (``caseExact``:
an email's address and type are not); an element without a ``value`` (an address) when every sub-attribute is.
The first one sent is kept, ``primary`` if any of its repeats was (the one primary the client named stays one).
"""

from __future__ import annotations

import json
from typing import Any

from app.directory.schema import AttrDef, schema_for


def without_duplicates(resource_type: str, document: dict[str, Any]) -> dict[str, Any]:
    """The document with each multi-valued complex attribute of the core schema holding each element once (the
    enterprise extension has none; a Group's ``members`` are not in the stored document)."""
    schema = schema_for(resource_type)
    attributes = schema.attributes[schema.core]
    result = dict(document)
    for name, value in document.items():
        attribute = attributes.get(name.lower())
        if attribute is not None and attribute.multi_valued and attribute.type == "complex" and isinstance(value, list):
            result[name] = _distinct(attribute, value)
    return result


def _distinct(attribute: AttrDef, elements: list[Any]) -> list[Any]:
    kept: dict[str, dict[str, Any]] = {}
    distinct: list[Any] = []
    for element in elements:
        if not isinstance(element, dict):
            distinct.append(element)
            continue
        key = _key(attribute, element)
        first = kept.get(key)
        if first is None:
            kept[key] = dict(element)
            distinct.append(kept[key])
        elif element.get("primary") is True:
            first["primary"] = True
    return distinct


def _key(attribute: AttrDef, element: dict[str, Any]) -> str:
    """What makes an element the same as another: (value, type), or every sub-attribute but ``primary``."""
    if "value" in element:
        compared = {name: _folded(attribute, name, element.get(name)) for name in ("value", "type")}
    else:
        compared = {name: value for name, value in element.items() if name != "primary"}
    return json.dumps(compared, sort_keys=True, default=str)


def _folded(attribute: AttrDef, name: str, value: Any) -> Any:
    sub = attribute.sub.get(name)
    if isinstance(value, str) and (sub is None or not sub.case_exact):
        return value.casefold()
    return value
