"""``attributes`` and ``excludedAttributes`` (RFC 7644 §3.9) applied to an output document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.directory.errors import invalid_value
from app.directory.schema import ResourceSchema, schema_for

ALWAYS = {"id", "schemas"}


def parse_list(raw: str | list[str] | None) -> list[str]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else raw.split(",")
    return [item.strip() for item in items if item and item.strip()]


def _split(path: str, schema: ResourceSchema) -> tuple[str | None, str, str | None]:
    """(extension URN or None, attribute, sub-attribute) from ``urn:…:attr.sub`` or ``attr.sub``."""
    lowered = path.lower()
    for urn in schema.all_schemas():
        if lowered.startswith(urn.lower() + ":"):
            rest = path[len(urn) + 1 :]
            attr, _, sub = rest.partition(".")
            return (None if urn == schema.core else urn), attr, sub or None
        if lowered == urn.lower():
            return urn, "", None
    attr, _, sub = path.partition(".")
    return None, attr, sub or None


def _key(container: dict[str, Any], name: str) -> str | None:
    lowered = name.lower()
    for key in container:
        if key.lower() == lowered:
            return key
    return None


def project(
    document: dict[str, Any], schema: ResourceSchema, attributes: list[str], excluded: list[str]
) -> dict[str, Any]:
    if attributes and excluded:
        raise invalid_value("Use either 'attributes' or 'excludedAttributes', not both.")
    if attributes:
        return _schemas_held(_include(document, schema, attributes), schema)
    if excluded:
        return _schemas_held(_exclude(document, schema, excluded), schema)
    return document


def _schemas_held(out: dict[str, Any], schema: ResourceSchema) -> dict[str, Any]:
    """``schemas`` naming only the schemas whose attributes the projected answer holds (RFC 7643 §3), the core
    schema always: ``?attributes=groups`` answered ``schemas`` with the enterprise extension's URN beside no
    enterprise attribute, and a client reading ``schemas`` looked for an extension block that was not there."""
    key = _key(out, "schemas")
    declared = out.get(key) if key is not None else None
    if key is None or not isinstance(declared, list):
        return out
    blocks = {
        name.lower() for name, value in out.items() if isinstance(value, dict) and name.lower().startswith("urn:")
    }
    core = schema.core.lower()
    held = [urn for urn in declared if isinstance(urn, str) and (urn.lower() == core or urn.lower() in blocks)]
    if not any(urn.lower() == core for urn in held):
        held.insert(0, schema.core)
    return {**out, key: held}


def _include(document: dict[str, Any], schema: ResourceSchema, paths: list[str]) -> dict[str, Any]:
    """The asked attributes, each whole or narrowed to the sub-attributes asked of it.

    Every path is gathered before anything is copied: asked one at a time, ``emails.value,emails.type`` kept only
    the types (the second replaced the first) and ``emails,emails.value`` narrowed the whole attribute asked for.
    A sub-attribute no element holds leaves nothing behind: not ``"emails": [{}, {}]``, nor an empty extension."""
    out: dict[str, Any] = {k: v for k, v in document.items() if k.lower() in ALWAYS}
    for block, asked in _selection(document, schema, paths).items():
        if block is not None and _WHOLE_BLOCK in asked:
            out[block] = document[block]
            continue
        source = document if block is None else document[block]
        picked = {key: _narrowed(value, asked[key]) for key, value in source.items() if key in asked}
        kept = {key: value for key, value in picked.items() if not _empty(value)}
        if block is None:
            out.update(kept)
        elif kept:
            out[block] = kept
    return out


_WHOLE_BLOCK = ""  # the key of an extension asked by its URN alone: the whole block


def _selection(
    document: dict[str, Any], schema: ResourceSchema, paths: list[str]
) -> dict[str | None, dict[str, set[str] | None]]:
    """Per block (``None``: the core attributes; else an extension URN present in the document), each asked key
    as the document spells it, with the sub-attribute names asked of it (lower-cased), or ``None`` for all."""
    chosen: dict[str | None, dict[str, set[str] | None]] = {}
    for path in paths:
        urn, attr, sub = _split(path, schema)
        if urn is not None and urn not in document:
            continue
        source = document if urn is None else document[urn]
        key = _WHOLE_BLOCK if urn is not None and not attr else _key(source, attr)
        if key is None:
            continue
        asked = chosen.setdefault(urn, {})
        if key in asked and asked[key] is None:
            continue  # already asked whole: a sub-attribute asked too does not narrow it
        asked[key] = None if sub is None or key == _WHOLE_BLOCK else {*(asked.get(key) or ()), sub.lower()}
    return chosen


def _narrowed(value: Any, subs: set[str] | None) -> Any:
    """``value`` keeping only the sub-attributes ``subs`` (all when ``None``); a simple value has none."""
    if subs is None:
        return value
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k.lower() in subs}
    if isinstance(value, list):
        items = (_narrowed(item, subs) for item in value if isinstance(item, dict))
        return [item for item in items if item]
    return None


def _empty(value: Any) -> bool:
    return value is None or value == {} or value == []


def _exclude(document: dict[str, Any], schema: ResourceSchema, paths: list[str]) -> dict[str, Any]:
    out = dict(document)
    for path in paths:
        urn, attr, sub = _split(path, schema)
        container = out
        if urn is not None:
            if urn not in out:
                continue
            if not attr:
                del out[urn]
                continue
            container = out[urn] = dict(out[urn])
        key = _key(container, attr)
        if key is None or key.lower() in ALWAYS:
            continue
        if sub is None:
            del container[key]
        else:
            remaining = _without(container[key], sub.lower())
            if _empty(remaining):
                del container[key]  # every sub-attribute it held excluded: the attribute is not there
            else:
                container[key] = remaining
        if urn is not None and not container:
            del out[urn]
    return out


def _without(value: Any, sub: str) -> Any:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k.lower() != sub}
    if isinstance(value, list):
        items = (_without(item, sub) for item in value if isinstance(item, dict))
        return [item for item in items if item]
    return value


def wants_related(resource_type: str, include: list[str], exclude: list[str]) -> bool:
    """Whether the computed ``members`` (Group) or ``groups`` (User) must be read for this projection.

    Each name is read as the projection reads it, by its short or full name (``urn:…:Group:members``): a client
    asking for the members in full was answered without them when only the short name was recognised here."""
    name = "members" if resource_type == "Group" else "groups"
    schema = schema_for(resource_type)
    if include:
        return any(_core_attribute(item, schema) in ((name, True), (name, False)) for item in include)
    return (name, True) not in {_core_attribute(item, schema) for item in exclude}


def _core_attribute(path: str, schema: ResourceSchema) -> tuple[str, bool] | None:
    """(the core attribute a path names, lower-cased; whether it names the attribute whole), or ``None`` for an
    extension's."""
    urn, attr, sub = _split(path, schema)
    return None if urn is not None else (attr.lower(), sub is None)


@dataclass(frozen=True)
class Projection:
    """``attributes`` or ``excludedAttributes`` as a client asked: RFC 7644 §3.9 lets it ask on any operation that
    returns a resource, a POST, PUT or PATCH included. Asking for a Group without ``members`` spares reading them
    (a membership change of a group of 10,000 answers in a fraction of the time)."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def of(cls, attributes: str | None, excluded: str | None) -> Projection:
        """Parsed from the query; both at once is a 400 before anything is written."""
        include, exclude = parse_list(attributes), parse_list(excluded)
        if include and exclude:
            raise invalid_value("Use either 'attributes' or 'excludedAttributes', not both.")
        return cls(tuple(include), tuple(exclude))

    def wants_related(self, resource_type: str) -> bool:
        return wants_related(resource_type, list(self.include), list(self.exclude))

    def apply(self, document: dict[str, Any], schema: ResourceSchema) -> dict[str, Any]:
        return project(document, schema, list(self.include), list(self.exclude))


WHOLE = Projection()  # no attributes asked: the whole resource
