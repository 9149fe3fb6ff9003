"""Multi-valued attributes without elements that hold no value, as the mirror stores them.

An element such as ``{"type": "mobile"}`` or ``{"type": "work", "primary": true}`` names a kind of value but holds
none. It arrives two ways: Entra clears a number with ``replace phoneNumbers[type eq "mobile"].value ""`` (or a
``remove`` of that ``.value``), which takes the value out of the element and leaves its type; and OneLogin's
templates render an empty macro as ``{"value": "", "type": "work"}``. Kept, it is "present but empty" data:
``phoneNumbers pr`` matched a person with no phone number, exports listed a number that is not there, and every
target received an element with no value. An element is dropped when it holds nothing but the sub-attributes
that describe a value (``type``, ``primary``, ``display``); an attribute left with no element is dropped with it.
"""

from __future__ import annotations

from typing import Any

from app.directory.schema import schema_for

# Sub-attributes that say something about a value and are nothing without one (RFC 7643 §2.4).
_DESCRIBING = frozenset({"type", "primary", "display"})


def without_empty_elements(resource_type: str, document: dict[str, Any]) -> dict[str, Any]:
    """The document with each multi-valued complex attribute of the core schema keeping only elements that hold
    a value (the enterprise extension has no multi-valued attribute; a Group's ``members`` are not stored here)."""
    schema = schema_for(resource_type)
    attributes = schema.attributes[schema.core]
    result = dict(document)
    for name, value in document.items():
        attribute = attributes.get(name.lower())
        if (
            attribute is None
            or not attribute.multi_valued
            or attribute.type != "complex"
            or not isinstance(value, list)
        ):
            continue
        kept = [element for element in value if not _holds_nothing(element)]
        if kept:
            result[name] = kept
        else:
            del result[name]
    return result


def _holds_nothing(element: Any) -> bool:
    if not isinstance(element, dict):
        return False
    return all(key.lower() in _DESCRIBING or value in (None, "") for key, value in element.items())
