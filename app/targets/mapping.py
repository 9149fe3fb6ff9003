"""What one target receives: the attributes of its policy recipient, optionally renamed, and nothing else.

The mapping reuses the minimiser with a catalogue cut down to the recipient's attributes, so "what may be
held" and "what may be sent" are decided by the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from app.core.errors import ConfigError
from app.directory.schema import ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA
from app.policy.minimise import Minimiser
from app.policy.model import AttributeRule, Policy, Recipient
from app.policy.paths import resolve_path

CORE = {"User": USER_SCHEMA, "Group": GROUP_SCHEMA}


@dataclass(frozen=True)
class TargetMapping:
    recipient: Recipient
    rules: tuple[AttributeRule, ...]
    renames: dict[str, str]  # top-level attribute name as stored -> name at the target
    _minimiser: Minimiser
    policy: Policy | None = None  # the whole policy in force: the recipient's scope reads its purposes

    def sends(self, resource_type: str) -> bool:
        return self._minimiser.holds_anything(resource_type)

    def sends_members(self) -> bool:
        return self._minimiser.holds_members()

    def payload(self, resource_type: str, document: dict[str, Any]) -> dict[str, Any]:
        """The resource as this target may receive it (without id/meta; ``schemas`` recomputed)."""
        kept, _ = self._minimiser.strip(resource_type, document)
        kept.pop("id", None)
        kept.pop("meta", None)
        kept.pop("schemas", None)
        for ours, theirs in self.renames.items():
            if ours in kept:
                kept[theirs] = kept.pop(ours)
        schemas = [CORE[resource_type]]
        if ENTERPRISE_SCHEMA in kept:
            schemas.append(ENTERPRISE_SCHEMA)
        return {"schemas": schemas, **kept}

    def attribute_paths(self) -> list[str]:
        return [f"{rule.resource_type} {rule.path}" for rule in self.rules]


def _received_rules(policy: Policy, recipient: Recipient) -> tuple[AttributeRule, ...]:
    """The catalogue rules a recipient receives; a whole attribute held locally of which the recipient gets only
    some sub-attributes becomes one narrower rule per sub-attribute."""
    rules: list[AttributeRule] = []
    for rule in policy.attributes:
        wanted = recipient.group_attributes if rule.resource_type == "Group" else recipient.attributes
        if rule.key in wanted or rule.top in wanted:
            rules.append(rule)
        elif rule.sub is None:
            prefix = rule.top + "."
            for key in wanted:
                if key.startswith(prefix):
                    rules.append(replace(rule, path=key, key=key, sub=key[len(prefix) :]))
    return tuple(rules)


def mapping_for(policy: Policy, recipient_id: str, renames: dict[str, str] | None = None) -> TargetMapping:
    recipient = next((r for r in policy.recipients if r.id == recipient_id), None)
    if recipient is None:
        raise ConfigError(
            f"The policy in force has no recipient {recipient_id!r}: add it under [[recipients]] "
            "(with the attributes it receives) and apply the policy first."
        )
    rules = _received_rules(policy, recipient)
    if not rules:
        raise ConfigError(f"Recipient {recipient_id!r} receives no attribute of the catalogue.")
    renames = dict(renames or {})
    for ours in renames:
        if resolve_path("User", ours) is None and resolve_path("Group", ours) is None:
            raise ConfigError(f"Cannot rename {ours!r}: it is not a SCIM attribute.")
    cut = replace(policy, attributes=rules)
    return TargetMapping(recipient, rules, renames, Minimiser(cut), policy)
