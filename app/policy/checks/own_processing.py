"""``[own_processing]``: how long Custos' own records are kept, and why."""

from __future__ import annotations

from typing import Any

from app.policy.checks.reader import Reader
from app.policy.model import (
    OWN_PROCESSING,
    Retention,
)

PURGED_BY_PERIOD = ("dsr_register",)  # own records whose code deletes entries by period (app/dsr/retention.py)


def read_own_processing(reader: Reader, document: dict[str, Any]) -> tuple[tuple[str, Retention], ...]:
    """``[own_processing]``: how long Custos' own records (trail, registers, ledger) are kept, and why."""
    raw = document.get("own_processing", {})
    if not isinstance(raw, dict):
        reader.problem(("own_processing",), "[own_processing] must be a table")
        return ()
    found = []
    for key in OWN_PROCESSING:
        if key in raw:
            retention = reader.retention(raw[key], ("own_processing",), key, account_allowed=False)
            if retention is not None and retention.indefinite and key in PURGED_BY_PERIOD:
                reader.problem(
                    ("own_processing", key),
                    f"'{key}' is deleted by period (Art. 5(1)(e)): give a period such as \"P3Y\"",
                )
            elif retention is not None:
                found.append((key, retention))
    return tuple(found)
