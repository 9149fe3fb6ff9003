"""Attribute paths of the policy file resolved against the SCIM schemas.

A path is written as in a SCIM filter: ``userName``, ``name.givenName``, ``emails.value``, or with a schema URN
for an extension, ``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department``. Its key is the
lower-cased path the mirror's attribute index uses (``Resolved.index_path``).
"""

from __future__ import annotations

from app.directory.schema import Resolved, schema_for

STRUCTURAL = frozenset({"schemas", "id", "meta"})  # not personal data; always present
NOT_HOLDABLE = {
    "password": "Custos never stores passwords",
    "groups": "a user's groups come from the Group 'members' attribute",
    "meta": "meta is computed by the server",
    "id": "id is assigned by the server",
}
# Descriptors of a multi-valued element; they come with any held sub-attribute of that element.
ELEMENT_DESCRIPTORS = frozenset({"type", "primary"})


def split_path(path: str) -> tuple[str | None, str, str | None]:
    uri: str | None = None
    rest = path
    if path.lower().startswith("urn:"):
        uri, _, rest = path.rpartition(":")
    attr, _, sub = rest.partition(".")
    return uri, attr, sub or None


def resolve_path(resource_type: str, path: str) -> Resolved | None:
    uri, attr, sub = split_path(path)
    if not attr:
        return None
    return schema_for(resource_type).resolve(uri, attr, sub)


def holdable_paths(resource_type: str) -> list[str]:
    """Every path a catalogue entry may name for this resource type, as the file writes it (the policy editor
    offers them as completions): each attribute, and each sub-attribute of a complex one; extension attributes
    with their schema URN. Never a path the loader refuses (passwords, ids, meta)."""
    schema = schema_for(resource_type)
    paths = ["externalId"]
    for urn in schema.all_schemas():
        prefix = "" if urn == schema.core else f"{urn}:"
        for definition in schema.attributes[urn].values():
            name = definition.name
            if name.lower() in NOT_HOLDABLE or name.lower() in STRUCTURAL:
                continue
            paths.append(prefix + name)
            paths += [f"{prefix}{name}.{sub.name}" for sub in definition.sub.values()]
    return paths
