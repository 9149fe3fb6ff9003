"""An erasure's note must not name the person it erases: the note outlives the erasure (the request row, the
signed receipt, which names the subject by pseudonym only). A general name detector is not possible, but the
request knows exactly what to look for: the subjects' own identifiers and names, read before they are deleted."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from app.core.errors import ConfigError

# The attributes that identify a person by themselves (a title or a department does not).
_TOP = ("userName", "externalId", "displayName", "nickName")
_MULTI = ("emails", "phoneNumbers")


def identifying_values(resource_id: str, document: dict[str, Any]) -> list[str]:
    """The subject's SCIM id, sign-in name, external id, names, e-mail addresses and phone numbers."""
    found = [resource_id, *(document.get(key) for key in _TOP)]
    name = document.get("name")
    if isinstance(name, dict):
        found += list(name.values())
    for key in _MULTI:
        entries = document.get(key)
        if isinstance(entries, list):
            found += [entry.get("value") for entry in entries if isinstance(entry, dict)]
    return [value.strip() for value in found if isinstance(value, str) and len(value.strip()) >= 2]


def refuse_names(note: str | None, values: Iterable[str], what: str, unchanged: str = "nothing was erased") -> None:
    """ConfigError when ``note`` contains one of ``values`` as a whole word (case-insensitive); the error never
    repeats the value."""
    if not note:
        return
    folded = note.casefold()
    for value in values:
        if re.search(rf"(?<!\w){re.escape(value.casefold())}(?!\w)", folded):
            raise ConfigError(
                f"The {what} names the person being erased (a name or an identifier of theirs): it would outlive "
                f"the erasure on the request and its receipt. Name them by request id only; {unchanged}."
            )
