"""Booleans are ``true`` or ``false``: the loose forms pydantic's lax mode would turn into one are refused.

RFC 7643 §2.3.2 has two boolean literals. IdPs send one more form, the strings ``"True"`` and ``"False"``
(Entra's default job; docs/idp-tolerances.md), which is read as the boolean it names. scim2-models validates in
pydantic's lax mode, which also reads ``1``, ``0``, ``"yes"``, ``"no"``, ``"on"``, ``"off"``, ``"t"``, ``"y"``
and ``1.0`` as booleans: ``"active": "no"`` disabled an account and ``"active": 1`` enabled one, answered 201 or
200 as if that was what was sent. Such a value is not one any IdP documents; it is refused (400 invalidValue,
naming the attribute by its schema name, never quoting the value) before validation can read it.
"""

from __future__ import annotations

import re
from typing import Any

from app.directory.errors import invalid_value
from app.directory.schema import AttrDef, ResourceSchema, schema_for

_ACCEPTED_STRINGS = frozenset({"true", "false"})
_FILTER = re.compile(r"\[.*\]")


def refuse_loose_booleans(resource_type: str, body: dict[str, Any]) -> None:
    """A POST or PUT body, or a path-less PATCH value (its keys may be paths), holds no loose boolean."""
    schema = schema_for(resource_type)
    for key, value in body.items():
        if not isinstance(key, str):
            continue
        block = _extension(schema, key)
        if block is not None:
            if isinstance(value, dict):
                _check_block(block, value)
            continue
        resolved = _resolve(schema, key)
        if resolved is not None:
            _check(*resolved, value)


def refuse_loose_patch_booleans(resource_type: str, body: dict[str, Any]) -> None:
    """The ``add`` and ``replace`` values of a PATCH body (after the tolerances) hold no loose boolean."""
    operations = body.get("Operations")
    if not isinstance(operations, list):
        return
    for operation in operations:
        if not isinstance(operation, dict) or str(operation.get("op", "")).lower() not in ("add", "replace"):
            continue
        path, value = operation.get("path"), operation.get("value")
        if path is None and isinstance(value, dict):
            refuse_loose_booleans(resource_type, value)
        elif isinstance(path, str):
            refuse_loose_booleans(resource_type, {path: value})


def _extension(schema: ResourceSchema, key: str) -> dict[str, AttrDef] | None:
    """The attributes of the extension ``key`` names as a whole block, if it does."""
    urn = next((urn for urn in schema.extensions if urn.lower() == key.lower()), None)
    return schema.attributes[urn] if urn is not None else None


def _resolve(schema: ResourceSchema, path: str) -> tuple[AttrDef, str] | None:
    """The attribute a path names (``active``, ``name.givenName``, ``emails[type eq "work"].primary``, an
    extension's ``urn:…:department``) and its parent's name; ``None`` for one the schema does not have
    (validation judges those)."""
    plain = _FILTER.sub("", path)
    uri, _, rest = plain.rpartition(":") if plain.lower().startswith("urn:") else ("", "", plain)
    attr, _, sub = rest.partition(".")
    resolved = schema.resolve(uri or None, attr, sub or None)
    if resolved is None:
        return None
    return resolved.leaf, resolved.top.name if resolved.sub_name else ""


def _check_block(attributes: dict[str, AttrDef], block: dict[str, Any]) -> None:
    for name, value in block.items():
        attribute = attributes.get(name.lower()) if isinstance(name, str) else None
        if attribute is not None:
            _check(attribute, "", value)


def _check(attribute: AttrDef, parent: str, value: Any) -> None:
    """``value`` as ``attribute`` (a list of its values when multi-valued, or one of them)."""
    where = f"{parent}.{attribute.name}" if parent else attribute.name
    items = value if isinstance(value, list) and attribute.multi_valued else [value]
    for item in items:
        if attribute.type == "boolean" and not _is_boolean(item):
            raise invalid_value(f"'{where}' is a boolean: send true or false; nothing was stored.")
        if attribute.type == "complex" and isinstance(item, dict):
            for name, inner in item.items():
                sub = attribute.sub.get(name.lower()) if isinstance(name, str) else None
                if sub is not None:
                    _check(sub, where, inner)


def _is_boolean(value: Any) -> bool:
    return value is None or isinstance(value, bool) or (isinstance(value, str) and value.lower() in _ACCEPTED_STRINGS)
