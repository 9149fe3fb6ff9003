"""Data minimisation: keep what the agreed schema holds, name what it does not.

A ``Minimiser`` is compiled once per policy version. It works on the canonical document scim2-models produces
(attribute names as in the schema, an extension's attributes under its URN), so it sees the request exactly as
it would be stored, whatever casing or shape the client used. It reports removed attributes by name only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.directory.held import Unheld
from app.directory.schema import Resolved, schema_for
from app.policy.model import Policy
from app.policy.paths import ELEMENT_DESCRIPTORS, resolve_path
from app.policy.type_filter import NO_TYPE, NOT_CANONICAL, canonical_types, split_typed

if TYPE_CHECKING:  # a node comes from a parsed filter: scim2-models is loaded by whoever parsed it, not here
    from scim2_models.path import AttrPath

_ALWAYS = frozenset({"id", "meta"})  # structural, computed by the server


Types = frozenset[str] | None  # the lower-cased types a rule holds; None: every type (no filter)


@dataclass(frozen=True)
class _Held:
    whole: dict[str, Types]  # top-level keys held entirely (lower-cased, extension keys prefixed with the URN)
    partial: dict[str, dict[str, Types]] = field(default_factory=dict)  # top key -> held sub-attributes


@dataclass
class Minimised:
    """A document as the policy holds it. ``removed`` names what was taken out (``phoneNumbers``,
    ``emails.display``); ``paths`` the same with the multi-valued element's canonical type, as a SCIM value path
    (``phoneNumbers[type eq "mobile"]``, ``emails[type eq "work"].display``): what the audit trail and "Outside
    the policy" show. Names only."""

    kept: dict[str, Any]
    removed: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


class Minimiser:
    def __init__(self, policy: Policy) -> None:
        self._held: dict[str, _Held] = {}
        self._types: dict[str, dict[str, dict[str, str]]] = {}  # resource type -> top key -> lower -> canonical
        for resource_type in ("User", "Group"):
            rules = policy.rules_for(resource_type)
            whole = {rule.top: _types(rule.types) for rule in rules if rule.sub is None}
            partial: dict[str, dict[str, Types]] = {}
            for rule in rules:
                if rule.sub is not None:
                    partial.setdefault(rule.top, {})[rule.sub] = _types(rule.types)
            self._held[resource_type] = _Held(whole, partial)
            self._types[resource_type] = _canonical_types(resource_type)

    # -- documents ---------------------------------------------------------------------------------------
    def strip(self, resource_type: str, document: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The document without anything outside the schema, and the names of what was taken out."""
        result = self.minimise(resource_type, document)
        return result.kept, result.removed

    def minimise(self, resource_type: str, document: dict[str, Any]) -> Minimised:
        held = self._held[resource_type]
        out = Minimised({})
        for key, value in document.items():
            if key == "schemas" or key in _ALWAYS:
                out.kept[key] = value
            elif key.lower().startswith("urn:") and isinstance(value, dict):
                extension: dict[str, Any] = {}
                for attr, sub_value in value.items():
                    name = f"{key}:{attr}"
                    result = self._keep(resource_type, held, f"{key.lower()}:{attr.lower()}", name, sub_value, out)
                    if result is not None:
                        extension[attr] = result
                if extension:
                    out.kept[key] = extension
            else:
                result = self._keep(resource_type, held, key.lower(), key, value, out)
                if result is not None:
                    out.kept[key] = result
        if "schemas" in out.kept and isinstance(out.kept["schemas"], list):
            core = schema_for(resource_type).core
            out.kept["schemas"] = [uri for uri in out.kept["schemas"] if uri == core or uri in out.kept]
        out.removed = list(dict.fromkeys(out.removed))
        out.paths = sorted(set(out.paths))
        return out

    def _keep(self, resource_type: str, held: _Held, top_key: str, name: str, value: Any, out: Minimised) -> Any:
        labels = self._types[resource_type].get(top_key, {})
        if top_key in held.whole:
            types = held.whole[top_key]
            if types is None or not isinstance(value, list):
                return value
            kept = [item for item in value if _kind(item) in types]
            self._note(name, "", labels, [item for item in value if _kind(item) not in types], out)
            return kept or None
        subs = held.partial.get(top_key)
        if subs is None:
            self._note(name, "", labels, value if isinstance(value, list) and value else [value], out)
            return None
        if not isinstance(value, list):
            return self._element(name, value, {sub for sub, types in subs.items() if types is None}, labels, out)
        kept = []
        for item in value:
            kind = _kind(item)
            here = {sub for sub, types in subs.items() if types is None or kind in types}
            result = self._element(name, item, here, labels, out, ELEMENT_DESCRIPTORS, typed_out=set(subs) - here)
            if result is not None:
                kept.append(result)
        return kept or None

    def _element(
        self,
        name: str,
        item: Any,
        subs: set[str],
        labels: dict[str, str],
        out: Minimised,
        descriptors: frozenset[str] = frozenset(),
        typed_out: set[str] | None = None,
    ) -> Any:
        """One element (or the single value of a complex attribute) with only ``subs``; its type and primary
        come along. An element left with only its type/primary says nothing: dropped.

        ``typed_out``: the parts the catalogue holds for other types only. An element dropped for its type is
        named as the element (``phoneNumbers[type eq "mobile"]``), as when its attribute is not held at all, so
        that one refusal keeps one name on "Outside the policy" whatever types the catalogue holds; otherwise
        each part taken out is named (``emails[type eq "work"].display``)."""
        if not isinstance(item, dict):
            return item
        allowed = subs | descriptors
        kept = {k: v for k, v in item.items() if k.lower() in allowed}
        dropped_for_its_type = any(k.lower() in (typed_out or ()) for k in item)
        if dropped_for_its_type and not any(k.lower() in subs for k in kept):
            self._note(name, "", labels, [item], out, missing=NO_TYPE)  # held for other types: say which is missing
            return None
        for key in sorted(k for k in item if k.lower() not in allowed):
            self._note(name, f".{key}", labels, [item], out)
        return kept if any(k.lower() in subs for k in kept) else None

    @staticmethod
    def _note(
        name: str, sub: str, labels: dict[str, str], items: list[Any], out: Minimised, missing: str = ""
    ) -> None:
        """Record ``name`` + ``sub`` as removed, once per element type it was removed from."""
        if not items:
            return
        out.removed.append(name + sub)
        for item in items:
            out.paths.append(f"{name}{_qualifier(item, labels, missing)}{sub}")

    # -- single attributes -----------------------------------------------------------------------------
    def holds(self, resource_type: str, resolved: Resolved) -> bool:
        """Is (any part of) this attribute held? Common attributes id and meta always are."""
        if resolved.schema == "" and resolved.top.name.lower() in _ALWAYS:
            return True
        held = self._held[resource_type]
        top = resolved.prefix + resolved.top.name.lower()
        if top in held.whole:
            return True
        subs = held.partial.get(top)
        if subs is None:
            return False
        return resolved.sub_name is None or resolved.sub_name in subs or resolved.sub_name in ELEMENT_DESCRIPTORS

    def admits(self, resource_type: str, path: str) -> bool:
        """Would an element at ``path``, as the audit trail records it (``phoneNumbers[type eq "mobile"].value``,
        ``phoneNumbers``, ``name.formatted``), be kept? A plain path of a type-filtered attribute is an element
        without a canonical type: a type filter does not admit it."""
        base, kind, _qualified = split_typed(path)
        resolved = resolve_path(resource_type, base) if resource_type in self._held else None
        if resolved is None or not self.holds(resource_type, resolved):
            return False
        held = self._held[resource_type]
        top = resolved.prefix + resolved.top.name.lower()
        if top in held.whole:
            types = held.whole[top]
        elif resolved.sub_name is None or resolved.sub_name in ELEMENT_DESCRIPTORS:
            # The whole element: admitted as far as every held part of it is (a typed part is not all of it).
            parts = held.partial[top].values()
            return all(types is None or (kind is not None and kind.lower() in types) for types in parts)
        else:
            types = held.partial[top][resolved.sub_name]
        return types is None or (kind is not None and kind.lower() in types)

    def filters_types(self, resource_type: str, path: str) -> bool:
        """Does the policy hold only some types of the attribute at ``path`` (a type filter on any part of it)?"""
        resolved = resolve_path(resource_type, path) if resource_type in self._held else None
        if resolved is None:
            return False
        held = self._held[resource_type]
        top = resolved.prefix + resolved.top.name.lower()
        if top in held.whole:
            return held.whole[top] is not None
        return any(types is not None for types in held.partial.get(top, {}).values())

    def held_types(self, resource_type: str, attribute: str) -> frozenset[str] | None:
        """The (lower-cased) types of ``attribute`` held in some part; None when every type is."""
        held = self._held[resource_type]
        top = attribute.lower()
        if top in held.whole:
            return held.whole[top]
        parts = list(held.partial.get(top, {}).values())
        if not parts or any(types is None for types in parts):
            return None
        return frozenset().union(*(types for types in parts if types is not None))

    def holds_members(self) -> bool:
        return "members" in self._held["Group"].whole

    def holds_anything(self, resource_type: str) -> bool:
        held = self._held[resource_type]
        return bool(held.whole or held.partial)

    # -- filters ---------------------------------------------------------------------------------------
    def unheld_in_filter(self, resource_types: tuple[str, ...], node: Any) -> Unheld | None:
        """The first attribute path in a parsed filter that exists but is not held, then the first type compared
        with ``eq`` that a type filter does not hold (``emails[type eq "home"]`` where only work e-mails are):
        either can match nothing, because nothing of it is ever stored. None when the filter names neither."""
        for uri, attr, sub in _filter_paths(node, None):
            for resource_type in resource_types:
                resolved = schema_for(resource_type).resolve(uri, attr, sub)
                if resolved is not None and not self._filterable(resource_type, resolved):
                    return Unheld(f"{attr}.{sub}" if sub else attr)
        for uri, attr, op, kind in _type_comparisons(node, None):
            for resource_type in resource_types:
                unheld = self._unheld_type(resource_type, uri, attr, op, kind)
                if unheld is not None:
                    return unheld
        return None

    def _filterable(self, resource_type: str, resolved: Resolved) -> bool:
        """Held, for a filter. A user's ``groups`` are the Group ``members`` seen from the user (as /Schemas publishes
        them, app/scim/discovery.py): ``groups[display eq "…"]`` was refused as "not held under the agreed schema"
        while every User listed beside the refusal showed its groups."""
        if resource_type == "User" and resolved.prefix == "" and resolved.top.name.lower() == "groups":
            return self.holds_members()
        return self.holds(resource_type, resolved)

    def _unheld_type(self, resource_type: str, uri: str | None, attr: str, op: str, kind: Any) -> Unheld | None:
        """A comparison on ``type`` that none of the held types satisfies (``type eq "home"``, ``type ne "work"``
        where only work is held) can only be false on what is stored: named as the trail names types."""
        resolved = schema_for(resource_type).resolve(uri, attr, None)
        if resolved is None or resolved.prefix or resource_type not in self._held:
            return None
        name = resolved.top.name
        types = self.held_types(resource_type, name)
        if types is None or any(_type_satisfies(held, op, kind) for held in types):
            return None
        canonical = canonical_types(resource_type, name)
        spelled = {c.lower(): c for c in canonical}
        # The client's word is named only when it is one of the schema's types (as the trail does), else not at all.
        label = spelled.get(kind.lower()) if isinstance(kind, str) else None
        if label:
            path = f'{name}[type {op} "{label}"]'
        elif op == "eq":
            path = f"{name}{NOT_CANONICAL if kind is not None else NO_TYPE}"
        else:
            path = f"{name}[type {op} …]"
        return Unheld(path, name, tuple(c for c in canonical if c.lower() in types))


def _types(types: tuple[str, ...]) -> Types:
    return frozenset(kind.lower() for kind in types) if types else None


def _kind(item: Any) -> str | None:
    kind = item.get("type") if isinstance(item, dict) else None
    return kind.lower() if isinstance(kind, str) else None


def _canonical_types(resource_type: str) -> dict[str, dict[str, str]]:
    """Top key -> {lower-cased type: canonical spelling} for the multi-valued attributes with canonical types."""
    schema = schema_for(resource_type)
    found: dict[str, dict[str, str]] = {}
    for definition in schema.attributes[schema.core].values():
        type_def = definition.sub.get("type") if definition.multi_valued else None
        if type_def is not None and type_def.canonical_values:
            found[definition.name.lower()] = {c.lower(): c for c in type_def.canonical_values}
    return found


def _qualifier(item: Any, labels: dict[str, str], missing: str = "") -> str:
    """``[type eq "mobile"]`` for an element of a canonical type. ``type`` is text the client chose, so anything
    else is ``[type not canonical]`` rather than copied into the audit trail; an element without a type is
    ``missing`` (``[type missing]`` where the catalogue holds the attribute for some types only, else nothing:
    the attribute is not held at all); an attribute without canonical types: nothing."""
    if not labels or not isinstance(item, dict):
        return ""
    kind = item.get("type")
    if not isinstance(kind, str):
        return missing
    label = labels.get(kind.lower())
    return f'[type eq "{label}"]' if label else NOT_CANONICAL


def _filter_paths(node: Any, parent: AttrPath | None) -> Iterator[tuple[str | None, str, str | None]]:
    from scim2_models.path import Comparison, LogicalExpr, Not, Present, ValuePath

    if isinstance(node, (Comparison, Present)):
        path = node.attr_path
        if parent is not None:
            yield parent.uri, parent.attr, path.attr
        else:
            yield path.uri, path.attr, path.sub_attr
    elif isinstance(node, ValuePath):
        path = node.attr_path
        yield path.uri, path.attr, path.sub_attr
        yield from _filter_paths(node.val_filter, path)
    elif isinstance(node, Not):
        yield from _filter_paths(node.expr, parent)
    elif isinstance(node, LogicalExpr):
        for term in node.terms:
            yield from _filter_paths(term, parent)


def _type_comparisons(node: Any, parent: AttrPath | None) -> Iterator[tuple[str | None, str, str, Any]]:
    """(uri, attribute, operator, compared value) of every comparison on ``type`` in a filter:
    ``emails[type eq "home"]`` and ``emails.type eq "home"`` alike (``pr`` holds for any held type: not listed)."""
    from scim2_models.path import Comparison, LogicalExpr, Not, ValuePath

    if isinstance(node, Comparison):
        path = node.attr_path
        op = str(getattr(node.op, "value", node.op)).lower()
        if parent is not None and path.attr.lower() == "type" and path.sub_attr is None:
            yield parent.uri, parent.attr, op, node.value
        elif parent is None and (path.sub_attr or "").lower() == "type":
            yield path.uri, path.attr, op, node.value
    elif isinstance(node, ValuePath):
        yield from _type_comparisons(node.val_filter, node.attr_path)
    elif isinstance(node, Not):
        yield from _type_comparisons(node.expr, parent)
    elif isinstance(node, LogicalExpr):
        for term in node.terms:
            yield from _type_comparisons(term, parent)


def _type_satisfies(held: str, op: str, value: Any) -> bool:
    """Could an element of the (lower-cased) ``held`` type satisfy ``type <op> value``? ``type`` is not case-exact
    (RFC 7643 §4.1.2), so neither is this. A value that is not text is left to the filter itself (True)."""
    if value is None:
        return op == "ne"  # "eq null" selects elements without a type, which a type filter does not hold
    if not isinstance(value, str):
        return True
    wanted = value.lower()
    tests = {
        "eq": held == wanted, "ne": held != wanted, "co": wanted in held, "sw": held.startswith(wanted),
        "ew": held.endswith(wanted), "gt": held > wanted, "ge": held >= wanted, "lt": held < wanted,
        "le": held <= wanted,
    }  # fmt: skip
    return tests.get(op, True)
