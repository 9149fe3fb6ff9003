"""Contacts in the policy: the controller, its DPO and representative, and contacts written inside another table."""

from __future__ import annotations

from typing import Any

from app.policy.checks.reader import Reader
from app.policy.model import (
    Contact,
)


def read_contact(reader: Reader, document: dict[str, Any], key: str, wanted: bool = False) -> Contact:
    raw = document.get(key)
    if raw is None:
        if wanted:
            reader.problem((key,), f"[{key}] is missing: the Art. 30 record needs name, address and email")
        return Contact()
    if not isinstance(raw, dict):
        reader.problem((key,), f"[{key}] must be a table")
        return Contact()
    where = (key,)
    return Contact(
        name=reader.text(raw, "name", where, wanted=wanted),
        address=reader.text(raw, "address", where, wanted=wanted),
        email=reader.text(raw, "email", where, wanted=wanted),
        telephone=reader.text(raw, "telephone", where),
    )


def read_nested_contact(reader: Reader, raw: dict[str, Any], key: str, where: tuple[str | int, ...]) -> Contact:
    """A contact written inside another table: ``dpo = { name = "…", email = "…" }``."""
    value = raw.get(key)
    if value is None:
        return Contact()
    if not isinstance(value, dict):
        reader.problem((*where, key), f"'{key}' must be a table: {{ name = …, address = …, email = … }}")
        return Contact()
    inner = (*where, key)
    return Contact(*(reader.text(value, part, inner) for part in ("name", "address", "email", "telephone")))
