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
        return _include(document, schema, attributes)
    if excluded:
        return _exclude(document, schema, excluded)
    return document


def _include(document: dict[str, Any], schema: ResourceSchema, paths: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in document.items() if k.lower() in ALWAYS}
    for path in paths:
        urn, attr, sub = _split(path, schema)
        source, target = document, out
        if urn is not None:
            if urn not in document:
                continue
            if not attr:
                out[urn] = document[urn]
                continue
            source, target = document[urn], out.setdefault(urn, {})
        key = _key(source, attr)
        if key is None:
            continue
        value = source[key]
        if sub is None:
            target[key] = value
        elif isinstance(value, dict):
            sub_key = _key(value, sub)
            if sub_key is not None:
                target.setdefault(key, {})[sub_key] = value[sub_key]
        elif isinstance(value, list):
            target[key] = [
                {k: v for k, v in item.items() if k.lower() == sub.lower()} for item in value if isinstance(item, dict)
            ]
    return out


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
        elif isinstance(container[key], dict):
            inner = dict(container[key])
            sub_key = _key(inner, sub)
            if sub_key is not None:
                del inner[sub_key]
            container[key] = inner
        elif isinstance(container[key], list):
            container[key] = [
                {k: v for k, v in item.items() if k.lower() != sub.lower()}
                for item in container[key]
                if isinstance(item, dict)
            ]
    return out


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
