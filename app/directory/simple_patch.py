"""The PATCH identity providers send most, applied to the stored document without the PatchOp machinery.

Entra ID and Okta keep a user in step mostly with operations that set one single-valued attribute: ``replace
active``, ``replace title``, ``replace name.givenName``, the enterprise ``department``; Okta also sends them without
a path, as ``{"op": "replace", "value": {"active": false}}``. Through scim2-models each costs a validation of the
stored resource, a validation of the PatchOp, the operation's path resolution and a deep copy, then a validation of
the result: about three quarters of a millisecond of the writer's time per PATCH (measured in
benchmarks/profile_writes.py), on the one thread every write of the vault waits for (issue 16).

:func:`simple_patch` applies such a request to a copy of the stored document directly, and only such a request:
every operation must set or remove one string or boolean attribute (or sub-attribute of a single-valued complex
one) that is ``readWrite`` in the schema, with a value of exactly that type. Anything else — a filter, a
multi-valued or complex target, another type, an empty value, a required attribute removed, an extension not yet
declared in ``schemas`` — returns None and goes the general way, so every error a client can get is still worded
by the general path. The result is then validated by the caller as the general path validates its own
(RFC 7643 semantics come from the same model); tests/directory/test_simple_patch.py checks that both ways give
the same document for each shape handled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.directory.schema import AttrDef, ResourceSchema, schema_for

_PYTHON_TYPES: dict[str, type] = {"string": str, "boolean": bool}
_SET_OPS = frozenset({"add", "replace"})  # on a single-valued attribute "add" replaces (RFC 7644 §3.5.2.1)


def simple_patch(resource_type: str, current: dict[str, Any], body: dict[str, Any]) -> dict[str, Any] | None:
    """``current`` with every operation of ``body`` applied, or None when any operation needs the general path.

    ``body`` is the normalised PatchOp (app/scim/tolerance.py has run: ops lower-cased, "" turned into remove).
    """
    if set(body) - {"schemas", "Operations"}:
        return None
    operations = body.get("Operations")
    if not isinstance(operations, list) or not operations:
        return None
    schema = schema_for(resource_type)
    document = dict(current)  # copied on write below: a group's document may hold 10,000 members, never copied
    for operation in operations:
        if not _apply(schema, document, operation):
            return None
    return document


def _apply(schema: ResourceSchema, document: dict[str, Any], operation: Any) -> bool:
    if not isinstance(operation, dict) or set(operation) - {"op", "path", "value"}:
        return False
    op, path, value = operation.get("op"), operation.get("path"), operation.get("value")
    if path is None:
        return op in _SET_OPS and isinstance(value, dict) and bool(value) and _set_each(schema, document, value)
    if not isinstance(path, str):
        return False
    target = _target(schema, document, path)
    if target is None:
        return False
    if op in _SET_OPS and "value" in operation:
        return _set(document, target, value)
    if op == "remove" and "value" not in operation:
        return _remove(document, target)
    return False


def _set_each(schema: ResourceSchema, document: dict[str, Any], values: dict[str, Any]) -> bool:
    """A path-less add/replace: each key a simple core attribute (a nested or extension key goes the general way)."""
    for name, value in values.items():
        target = _target(schema, document, name) if isinstance(name, str) and ":" not in name else None
        if target is None or target.sub is not None or not _set(document, target, value):
            return False
    return True


@dataclass(frozen=True)
class _Target:
    """Where a simple attribute sits in the stored document: under an extension's URN or at the top, then
    directly or inside a single-valued complex attribute (``name.givenName``)."""

    extension: str | None
    attribute: str
    sub: str | None
    kind: type
    required: bool


def _target(schema: ResourceSchema, document: dict[str, Any], path: str) -> _Target | None:
    """The attribute ``path`` names, when it is one this module may write; None otherwise."""
    if "[" in path or not path:
        return None
    uri, attr = _split_urn(schema, path)
    if attr is None:
        return None
    name, _, sub = attr.partition(".")
    if "." in sub:
        return None
    resolved = schema.resolve(uri, name, sub or None)
    if resolved is None or (resolved.schema == "" and resolved.top.name != "externalId"):
        return None  # id, meta: readOnly common attributes, refused by the general path with its own words
    if resolved.top.multi_valued or not _writable(resolved.top, container=bool(sub)) or not _writable(resolved.leaf):
        return None
    extension = None if resolved.schema in ("", schema.core) else resolved.schema
    if extension is not None and extension not in document.get("schemas", ()):
        return None  # the general path declares the extension in ``schemas``
    return _Target(
        extension,
        resolved.top.name,
        resolved.leaf.name if sub else None,
        _PYTHON_TYPES[resolved.leaf.type],
        resolved.top.required or resolved.leaf.required,
    )


def _split_urn(schema: ResourceSchema, path: str) -> tuple[str | None, str | None]:
    """(schema URN or None, attribute path) of a path that may be qualified with its schema's URN."""
    if not path.lower().startswith("urn:"):
        return None, path
    for urn in schema.all_schemas():
        if path.lower().startswith(urn.lower() + ":"):
            return urn, path[len(urn) + 1 :]
    return None, None


def _writable(definition: AttrDef, container: bool = False) -> bool:
    if definition.mutability != "readWrite":
        return False
    if container:
        return definition.type == "complex"
    return definition.type in _PYTHON_TYPES and not definition.sub


def _holder(document: dict[str, Any], target: _Target, create: bool) -> dict[str, Any] | None:
    """The dict the value is a key of, None when it is not there. Each nested dict on the way is replaced by a copy
    (created, for a set, when missing), so the stored document handed in is never changed."""
    holder: dict[str, Any] = document
    for key in (target.extension, target.attribute if target.sub else None):
        if key is None:
            continue
        child = holder.get(key)
        if child is None and create:
            child = {}
        if not isinstance(child, dict):
            return None
        holder[key] = child = dict(child)
        holder = child
    return holder


def _set(document: dict[str, Any], target: _Target, value: Any) -> bool:
    if type(value) is not target.kind or value == "":
        return False  # another type, or "" for a required attribute: the general path words the refusal
    holder = _holder(document, target, create=True)
    if holder is None:
        return False
    holder[target.sub or target.attribute] = value
    return True


def _remove(document: dict[str, Any], target: _Target) -> bool:
    if target.required:
        return False  # the general path refuses it
    holder = _holder(document, target, create=False)
    if holder is None:
        return True  # nothing there: removing it changes nothing
    holder.pop(target.sub or target.attribute, None)
    # An emptied ``name`` or extension: whether it is kept empty or dropped is the general path's to say.
    return bool(holder) or holder is document
