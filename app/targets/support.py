"""Which mapped attributes a target's /Schemas says it supports."""

from __future__ import annotations

from typing import Any

from app.directory.schema import GROUP_SCHEMA, USER_SCHEMA
from app.targets.mapping import TargetMapping

_CORE = {"User": USER_SCHEMA, "Group": GROUP_SCHEMA}


def supported_attributes(schemas: list[dict[str, Any]], mapping: TargetMapping) -> dict[str, bool]:
    """``"User emails.value" -> True`` when the target publishes that attribute (and sub-attribute)."""
    published: dict[str, dict[str, set[str]]] = {}
    for schema in schemas:
        attributes = published.setdefault(str(schema.get("id", "")).lower(), {})
        for attribute in schema.get("attributes") or []:
            subs = {str(sub.get("name", "")).lower() for sub in attribute.get("subAttributes") or []}
            attributes[str(attribute.get("name", "")).lower()] = subs
    result = {}
    for rule in mapping.rules:
        if rule.top.startswith("urn:"):
            uri, _, name = rule.top.rpartition(":")
        else:
            uri, name = _CORE[rule.resource_type], rule.top
        name = mapping.renames.get(name, name).lower()
        theirs = published.get(uri.lower(), {}).get(name)
        ok = theirs is not None and (rule.sub is None or not theirs or rule.sub in theirs)
        result[f"{rule.resource_type} {rule.path}"] = ok
    return result
