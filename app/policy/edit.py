"""Editing a policy file from the program (e.g. ``custos target add`` lists a new recipient) with tomlkit, so
that the operator's comments, ordering and layout survive: the file stays theirs, diffable in git."""

from __future__ import annotations

from typing import Any

import tomlkit
from tomlkit.items import AoT


def add_recipient(text: str, recipient: dict[str, Any]) -> str:
    """The policy text with ``recipient`` appended to ``[[recipients]]`` (replacing one with the same id)."""
    document = tomlkit.parse(text)
    recipients = document.get("recipients")
    if not isinstance(recipients, AoT):
        recipients = tomlkit.aot()
        document.append("recipients", recipients)
    for index, existing in enumerate(recipients):
        if existing.get("id") == recipient.get("id"):
            del recipients[index]
            break
    table = tomlkit.table()
    for key, value in recipient.items():
        table.add(key, value)
    recipients.append(table)
    return tomlkit.dumps(document)


def remove_recipient(text: str, recipient_id: str) -> str:
    document = tomlkit.parse(text)
    recipients = document.get("recipients")
    if isinstance(recipients, AoT):
        for index, existing in enumerate(recipients):
            if existing.get("id") == recipient_id:
                del recipients[index]
                break
    return tomlkit.dumps(document)


def set_outside_schema(text: str, mode: str) -> str:
    document = tomlkit.parse(text)
    document["outside_schema"] = mode
    return tomlkit.dumps(document)


def add_attribute(
    text: str, resource_type: str, path: str, category: str, purposes: list[str], justification: str
) -> str:
    """The policy text with one more ``[[attributes]]`` entry, the operator's justification as a comment above its
    keys (the catalogue has no field for it; the comment keeps it next to the entry, in git and in the history)."""
    document = tomlkit.parse(text)
    attributes = document.get("attributes")
    if not isinstance(attributes, AoT):
        attributes = tomlkit.aot()
        document.append("attributes", attributes)
    table = tomlkit.table()
    reason = " ".join(justification.split())  # one line: a newline would end the comment
    if reason:
        table.add(tomlkit.comment(f"Why: {reason}"))
    if resource_type != "User":
        table.add("resource", resource_type)
    table.add("path", path)
    table.add("category", category)
    table.add("purposes", purposes)
    attributes.append(table)
    return tomlkit.dumps(document)
