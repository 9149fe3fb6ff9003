"""``[[attributes]]``: the catalogue of SCIM attributes held, each with its category, purposes and Art. 9 status."""

from __future__ import annotations

from typing import Any

from app.policy.checks.reader import Reader
from app.policy.model import (
    ART9_CONDITIONS,
    AttributeRule,
)
from app.policy.paths import NOT_HOLDABLE, Resolved, resolve_path, split_path
from app.policy.type_filter import canonical_types, filterable_attributes

RESOURCE_TYPES = ("User", "Group")


Where = tuple[str | int, ...]


def read_attributes(
    reader: Reader, document: dict[str, Any], purposes: set[str], categories: set[str]
) -> tuple[AttributeRule, ...]:
    """The catalogue: an entry that cannot be placed (unknown resource or path, listed twice) is reported and
    left out, so the checks after it speak only of attributes that exist."""
    rules: list[AttributeRule] = []
    seen: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(reader.tables(document, "attributes")):
        where: Where = ("attributes", index)
        placed = _placed(reader, raw, where, seen)
        if placed is None:
            continue
        path, resource_type, resolved = placed
        seen[(resource_type, resolved.index_path)] = index
        rules.append(_rule(reader, raw, where, (path, resource_type, resolved), purposes, categories))
    _overlaps(reader, rules, seen)
    _required_present(reader, rules)
    return tuple(rules)


def _placed(
    reader: Reader, raw: dict[str, Any], where: Where, seen: dict[tuple[str, str], int]
) -> tuple[str, str, Resolved] | None:
    """The entry's path, resource type and SCIM attribute, or None (reported) when it names none it may hold."""
    path = reader.text(raw, "path", where, required=True)
    resource_type = reader.text(raw, "resource", where) or "User"
    if resource_type not in RESOURCE_TYPES:
        reader.problem((*where, "resource"), f"'resource' must be User or Group, not '{resource_type}'")
        return None
    if not path:
        return None
    _, attr, _ = split_path(path)
    if attr.lower() in NOT_HOLDABLE:
        reader.problem((*where, "path"), f"'{path}' cannot be in the catalogue: {NOT_HOLDABLE[attr.lower()]}")
        return None
    resolved = resolve_path(resource_type, path)
    if resolved is None:
        reader.problem((*where, "path"), f"'{path}' is not an attribute of the SCIM {resource_type} schema")
        return None
    first = seen.get((resource_type, resolved.index_path))
    if first is not None:
        _listed_twice(reader, raw, where, (path, resource_type, resolved), first)
        return None
    return path, resource_type, resolved


def _listed_twice(
    reader: Reader, raw: dict[str, Any], where: Where, placed: tuple[str, str, Resolved], first: int
) -> None:
    """A second entry for one attribute; where it adds a type filter, say how to hold several types in one."""
    path, resource_type, resolved = placed
    kinds = canonical_types(resource_type, resolved.top.name)
    example = ", ".join(f'"{kind}"' for kind in kinds[:2])
    hint = (
        f" (to hold several types, name them in one entry: types = [{example}])"
        if ("types" in raw and len(kinds) > 1)
        else ""
    )
    reader.problem((*where, "path"), f"'{path}' is listed twice (first at entry {first + 1}){hint}")


def _rule(
    reader: Reader,
    raw: dict[str, Any],
    where: Where,
    placed: tuple[str, str, Resolved],
    purposes: set[str],
    categories: set[str],
) -> AttributeRule:
    """One placed entry's rule: its category and purposes must be declared, its Art. 9 status consistent."""
    path, resource_type, resolved = placed
    category = reader.text(raw, "category", where, required=True)
    if category and category not in categories:
        reader.problem((*where, "category"), f"category '{category}' is not declared in [[categories]]")
    used_for = reader.texts(raw, "purposes", where)
    if not used_for:
        reader.problem((*where, "purposes") if "purposes" in raw else where, f"'{path}' names no purpose")
    for purpose in used_for:
        if purpose not in purposes:
            reader.problem((*where, "purposes"), f"purpose '{purpose}' is not declared in [[purposes]]")
    special, condition = _art9(reader, raw, where)
    return AttributeRule(
        path=path,
        key=resolved.index_path,
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


def _art9(reader: Reader, raw: dict[str, Any], where: Where) -> tuple[bool, str]:
    """``special_category`` and its ``art9_condition``: one without the other is a mistake either way."""
    special = reader.flag(raw, "special_category", where)
    condition = reader.text(raw, "art9_condition", where)
    if special and condition not in ART9_CONDITIONS:
        reader.problem(
            (*where, "art9_condition") if "art9_condition" in raw else (*where, "special_category"),
            f"special-category data needs an art9_condition: one of {', '.join(ART9_CONDITIONS)}",
        )
    if condition and not special:
        reader.problem((*where, "art9_condition"), "art9_condition is set but special_category is not true")
    return special, condition


def _required_present(reader: Reader, rules: list[AttributeRule]) -> None:
    """The attributes SCIM requires of every resource of a type the catalogue holds."""
    if not any(r.resource_type == "User" and r.key == "username" for r in rules):
        reader.problem(("attributes",), "'userName' must be in the catalogue: SCIM requires it for every User")
    if any(r.resource_type == "Group" for r in rules) and not any(
        r.resource_type == "Group" and r.key == "displayname" for r in rules
    ):
        reader.problem(("attributes",), "Group attributes are listed but not 'displayName', which SCIM requires")


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
