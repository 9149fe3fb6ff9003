"""``[[attributes]]``: the catalogue of SCIM attributes held, each with its category, purposes and Art. 9 status."""

from __future__ import annotations

from typing import Any

from app.policy.checks.reader import Reader
from app.policy.model import (
    ART9_CONDITIONS,
    AttributeRule,
)
from app.policy.paths import NOT_HOLDABLE, resolve_path, split_path
from app.policy.type_filter import canonical_types, filterable_attributes

RESOURCE_TYPES = ("User", "Group")


def read_attributes(
    reader: Reader, document: dict[str, Any], purposes: set[str], categories: set[str]
) -> tuple[AttributeRule, ...]:
    tables = reader.tables(document, "attributes")
    rules: list[AttributeRule] = []
    seen: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(tables):
        where: tuple[str | int, ...] = ("attributes", index)
        path = reader.text(raw, "path", where, required=True)
        resource_type = reader.text(raw, "resource", where) or "User"
        if resource_type not in RESOURCE_TYPES:
            reader.problem((*where, "resource"), f"'resource' must be User or Group, not '{resource_type}'")
            continue
        if not path:
            continue
        _, attr, _ = split_path(path)
        if attr.lower() in NOT_HOLDABLE:
            reader.problem((*where, "path"), f"'{path}' cannot be in the catalogue: {NOT_HOLDABLE[attr.lower()]}")
            continue
        resolved = resolve_path(resource_type, path)
        if resolved is None:
            reader.problem((*where, "path"), f"'{path}' is not an attribute of the SCIM {resource_type} schema")
            continue
        key = resolved.index_path
        if (resource_type, key) in seen:
            kinds = canonical_types(resource_type, resolved.top.name)
            example = ", ".join(f'"{kind}"' for kind in kinds[:2])
            hint = (
                f" (to hold several types, name them in one entry: types = [{example}])"
                if ("types" in raw and len(kinds) > 1)
                else ""
            )
            reader.problem(
                (*where, "path"), f"'{path}' is listed twice (first at entry {seen[(resource_type, key)] + 1}){hint}"
            )
            continue
        seen[(resource_type, key)] = index
        category = reader.text(raw, "category", where, required=True)
        if category and category not in categories:
            reader.problem((*where, "category"), f"category '{category}' is not declared in [[categories]]")
        used_for = reader.texts(raw, "purposes", where)
        if not used_for:
            reader.problem((*where, "purposes") if "purposes" in raw else where, f"'{path}' names no purpose")
        for purpose in used_for:
            if purpose not in purposes:
                reader.problem((*where, "purposes"), f"purpose '{purpose}' is not declared in [[purposes]]")
        special = reader.flag(raw, "special_category", where)
        condition = reader.text(raw, "art9_condition", where)
        if special and condition not in ART9_CONDITIONS:
            reader.problem(
                (*where, "art9_condition") if "art9_condition" in raw else (*where, "special_category"),
                f"special-category data needs an art9_condition: one of {', '.join(ART9_CONDITIONS)}",
            )
        if condition and not special:
            reader.problem((*where, "art9_condition"), "art9_condition is set but special_category is not true")
        rules.append(
            AttributeRule(
                path=path,
                key=key,
                resource_type=resource_type,
                category=category,
                purposes=used_for,
                special=special,
                art9_condition=condition,
                retention=reader.retention(raw.get("retention"), where),
                top=resolved.prefix + resolved.top.name.lower(),
                sub=resolved.sub_name,
                types=_types(reader, raw, where, resource_type, resolved.top.name) if "types" in raw else (),
            )
        )
    _overlaps(reader, rules, seen)
    if not any(r.resource_type == "User" and r.key == "username" for r in rules):
        reader.problem(("attributes",), "'userName' must be in the catalogue: SCIM requires it for every User")
    if any(r.resource_type == "Group" for r in rules) and not any(
        r.resource_type == "Group" and r.key == "displayname" for r in rules
    ):
        reader.problem(("attributes",), "Group attributes are listed but not 'displayName', which SCIM requires")
    return tuple(rules)


def _types(
    reader: Reader, raw: dict[str, Any], where: tuple[str | int, ...], resource_type: str, attribute: str
) -> tuple[str, ...]:
    """``types = ["work"]``: only elements of these canonical types are held (app/policy/type_filter.py)."""
    at = (*where, "types")
    canonical = canonical_types(resource_type, attribute)
    if not canonical:
        reader.problem(
            at,
            f"'{attribute}' has no types to filter by: 'types' applies to "
            f"{', '.join(filterable_attributes(resource_type)) or 'no attribute'} of a {resource_type}",
        )
        return ()
    value = raw["types"]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        reader.problem(at, f"'types' must be a list of text, such as [\"{canonical[0]}\"]")
        return ()
    if not value:
        reader.problem(at, "'types' is empty: name at least one type, or leave 'types' out to hold every type")
        return ()
    by_lower = {kind.lower(): kind for kind in canonical}
    kept: list[str] = []
    for item in value:
        kind = by_lower.get(item.strip().lower())
        if kind is None:
            reader.problem(at, f"'{item.strip()}' is not a type of {attribute}: one of {', '.join(canonical)}")
        elif kind not in kept:
            kept.append(kind)
    return tuple(kept)


def _overlaps(reader: Reader, rules: list[AttributeRule], seen: dict[tuple[str, str], int]) -> None:
    """A whole complex attribute and one of its sub-attributes both listed would hide which rule applies."""
    keys = {(r.resource_type, r.key) for r in rules}
    for rule in rules:
        if rule.sub is not None and (rule.resource_type, rule.top) in keys:
            reader.problem(
                ("attributes", seen[(rule.resource_type, rule.key)], "path"),
                f"'{rule.path}' is already covered by the whole attribute listed in another entry",
            )
