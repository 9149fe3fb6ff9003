"""Data minimisation: keep what the agreed schema holds, name what it does not.

A ``Minimiser`` is compiled once per policy version. It works on the canonical document scim2-models produces
(attribute names as in the schema, an extension's attributes under its URN), so it sees the request exactly as
it would be stored, whatever casing or shape the client used. It reports removed attributes by name only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.directory.schema import Resolved, schema_for
from app.policy.model import Policy
from app.policy.paths import ELEMENT_DESCRIPTORS

if TYPE_CHECKING:  # a node comes from a parsed filter: scim2-models is loaded by whoever parsed it, not here
    from scim2_models.path import AttrPath

_ALWAYS = frozenset({"id", "meta"})  # structural, computed by the server


@dataclass(frozen=True)
class _Held:
    whole: frozenset[str]  # top-level keys held entirely (lower-cased, extension keys prefixed with the URN)
    partial: dict[str, frozenset[str]] = field(default_factory=dict)  # top key -> held sub-attributes


class Minimiser:
    def __init__(self, policy: Policy) -> None:
        self._held: dict[str, _Held] = {}
        for resource_type in ("User", "Group"):
            rules = policy.rules_for(resource_type)
            whole = frozenset(rule.top for rule in rules if rule.sub is None)
            partial: dict[str, set[str]] = {}
            for rule in rules:
                if rule.sub is not None:
                    partial.setdefault(rule.top, set()).add(rule.sub)
            self._held[resource_type] = _Held(whole, {k: frozenset(v) for k, v in partial.items()})

    # -- documents ---------------------------------------------------------------------------------------
    def strip(self, resource_type: str, document: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The document without anything outside the schema, and the names of what was taken out."""
        held = self._held[resource_type]
        kept: dict[str, Any] = {}
        removed: list[str] = []
        for key, value in document.items():
            if key == "schemas" or key in _ALWAYS:
                kept[key] = value
            elif key.lower().startswith("urn:") and isinstance(value, dict):
                extension: dict[str, Any] = {}
                for attr, sub_value in value.items():
                    name = f"{key}:{attr}"
                    result = self._keep(resource_type, held, f"{key.lower()}:{attr.lower()}", name, sub_value, removed)
                    if result is not None:
                        extension[attr] = result
                if extension:
                    kept[key] = extension
            else:
                result = self._keep(resource_type, held, key.lower(), key, value, removed)
                if result is not None:
                    kept[key] = result
        if "schemas" in kept and isinstance(kept["schemas"], list):
            core = schema_for(resource_type).core
            kept["schemas"] = [uri for uri in kept["schemas"] if uri == core or uri in kept]
        return kept, removed

    def _keep(
        self, resource_type: str, held: _Held, top_key: str, name: str, value: Any, removed: list[str]
    ) -> Any | None:
        if top_key in held.whole:
            return value
        subs = held.partial.get(top_key)
        if subs is None:
            removed.append(name)
            return None
        allowed = subs | ELEMENT_DESCRIPTORS if isinstance(value, list) else subs
        dropped: set[str] = set()

        def element(item: Any) -> Any | None:
            if not isinstance(item, dict):
                return item
            kept = {k: v for k, v in item.items() if k.lower() in allowed}
            dropped.update(k for k in item if k.lower() not in allowed)
            # An element left with only its type/primary says nothing: drop it.
            return kept if any(k.lower() in subs for k in kept) else None

        if isinstance(value, list):
            result: Any = [kept for kept in (element(item) for item in value) if kept is not None] or None
        else:
            result = element(value)
        removed.extend(f"{name}.{sub}" for sub in sorted(dropped))
        return result

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

    def holds_members(self) -> bool:
        return "members" in self._held["Group"].whole

    def holds_anything(self, resource_type: str) -> bool:
        held = self._held[resource_type]
        return bool(held.whole or held.partial)

    # -- filters ---------------------------------------------------------------------------------------
    def unheld_in_filter(self, resource_types: tuple[str, ...], node: Any) -> str | None:
        """The first attribute path in a parsed filter that exists but is not held, or None."""
        for uri, attr, sub in _filter_paths(node, None):
            for resource_type in resource_types:
                resolved = schema_for(resource_type).resolve(uri, attr, sub)
                if resolved is not None and not self.holds(resource_type, resolved):
                    return f"{attr}.{sub}" if sub else attr
        return None


def typed_paths(resource_type: str, document: dict[str, Any], removed: list[str]) -> list[str]:
    """The removed names with the type of each multi-valued element they came from, as a SCIM value path:
    ``phoneNumbers[type eq "mobile"]``, ``addresses[type eq "work"].formatted``. Names only, never a value.

    Only the schema's canonical types (RFC 7643: work, home, mobile, fax…) are written: ``type`` is text the
    client chose, so anything else is reported as ``[type not canonical]`` rather than copied into the audit
    trail. An element without a type, or of an attribute without canonical types, keeps the plain name.
    """
    paths: list[str] = []
    for name in removed:
        top_name, _, sub = name.partition(".") if not name.lower().startswith("urn:") else (name, "", "")
        value = document.get(top_name)
        resolved = schema_for(resource_type).resolve(None, top_name, None) if isinstance(value, list) else None
        type_def = resolved.top.sub.get("type") if resolved is not None and resolved.top.multi_valued else None
        if type_def is None or not type_def.canonical_values or not isinstance(value, list):
            paths.append(name)
            continue
        canonical = {c.lower(): c for c in type_def.canonical_values}
        seen: list[str] = []
        for item in value:
            if not isinstance(item, dict) or (sub and not any(k.lower() == sub.lower() for k in item)):
                continue
            kind = item.get("type")
            label = "" if not isinstance(kind, str) else canonical.get(kind.lower(), "")
            qualifier = f'[type eq "{label}"]' if label else ("[type not canonical]" if isinstance(kind, str) else "")
            path = f"{top_name}{qualifier}" + (f".{sub}" if sub else "")
            if path not in seen:
                seen.append(path)
        paths.extend(seen or [name])
    return sorted(set(paths))


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
