"""Comparing two policy versions: a readable summary of what changed, and the line diff of the files."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from app.core.errors import PolicyInvalid
from app.policy.model import Policy
from app.policy.versions import PolicyRecord, sha256_of


@dataclass(frozen=True)
class PolicyDiff:
    old: PolicyRecord
    new: PolicyRecord
    summary: list[str]
    text_diff: list[str]


def _attributes(policy: Policy) -> dict[tuple[str, str], tuple[str, str]]:
    """(resource type, key) -> (the entry's name with its type filter, what it says)."""
    return {
        (rule.resource_type, rule.key): (
            f"{rule.resource_type} {rule.label}",
            f"types {', '.join(rule.types) or 'all'}; category {rule.category}; purposes {', '.join(rule.purposes)}"
            + (f"; special category ({rule.art9_condition})" if rule.special else "")
            + f"; retention {policy.retention_of(rule).describe()}",
        )
        for rule in policy.attributes
    }


def _compare_attributes(old: Policy, new: Policy) -> list[str]:
    """Added and removed entries named with their type filter; a changed type filter says from what to what."""
    a, b = _attributes(old), _attributes(new)
    lines = [f"Attribute added: {b[key][0]}" for key in sorted(b.keys() - a.keys())]
    lines += [f"Attribute removed: {a[key][0]}" for key in sorted(a.keys() - b.keys())]
    for key in sorted(a.keys() & b.keys()):
        if a[key] != b[key]:
            renamed = f" (was {a[key][0].split(' ', 1)[1]})" if a[key][0] != b[key][0] else ""
            lines.append(f"Attribute changed: {b[key][0]}{renamed}")
    return lines


def _by_id(items: tuple[object, ...]) -> dict[str, object]:
    return {getattr(item, "id"): item for item in items}  # noqa: B009 - purposes, categories and recipients alike


def _compare(label: str, old: Mapping[str, object], new: Mapping[str, object]) -> list[str]:
    lines = [f"{label} added: {key}" for key in sorted(new.keys() - old.keys())]
    lines += [f"{label} removed: {key}" for key in sorted(old.keys() - new.keys())]
    lines += [f"{label} changed: {key}" for key in sorted(old.keys() & new.keys()) if old[key] != new[key]]
    return lines


def diff_versions(old: PolicyRecord, new: PolicyRecord) -> PolicyDiff:
    a, b = old.policy, new.policy
    summary: list[str] = []
    if a.outside_schema != b.outside_schema:
        summary.append(f"Outside-schema handling: {a.outside_schema} -> {b.outside_schema}")
    summary += _compare_attributes(a, b)
    summary += _compare("Purpose", _by_id(a.purposes), _by_id(b.purposes))
    summary += _compare("Data category", _by_id(a.categories), _by_id(b.categories))
    summary += _compare("Recipient", _by_id(a.recipients), _by_id(b.recipients))
    for role in ("controller", "joint_controller", "representative", "dpo"):
        if getattr(a, role) != getattr(b, role):
            summary.append(f"Contact changed: {role.replace('_', ' ')}")
    if a.organisational_measures != b.organisational_measures:
        summary.append("Organisational measures changed")
    if a.retention_job_enabled != b.retention_job_enabled:
        summary.append(f"Retention job: {'enabled' if b.retention_job_enabled else 'disabled'}")
    text = list(
        difflib.unified_diff(
            old.text.splitlines(),
            new.text.splitlines(),
            fromfile=f"v{old.version} ({old.sha256[:12]})",
            tofile=f"v{new.version} ({new.sha256[:12]})",
            lineterm="",
        )
    )
    return PolicyDiff(old, new, summary or ["No change in content (only comments or layout differ)."], text)


def diff_draft(old: PolicyRecord, text: str, operator: str = "draft") -> PolicyDiff:
    """The in-force version against a draft not applied yet (the policy editor's Changes page). A draft with
    errors still gets its line diff; the summary then says why it cannot be given."""
    new = PolicyRecord(old.version + 1, sha256_of(text), datetime.now(UTC), operator, text)
    try:
        return diff_versions(old, new)
    except PolicyInvalid:
        lines = list(
            difflib.unified_diff(
                old.text.splitlines(), text.splitlines(), fromfile=f"v{old.version}", tofile="draft", lineterm=""
            )
        )
        return PolicyDiff(old, new, ["The draft has errors: correct them to see what changes in substance."], lines)
