"""Time-ordered resource ids (UUIDv7 layout)."""

from __future__ import annotations

import uuid

from app.core.ids import new_resource_id


def test_ids_are_version_7_unique_and_time_ordered() -> None:
    ids = [new_resource_id() for _ in range(2000)]
    parsed = [uuid.UUID(value) for value in ids]
    assert all(item.version == 7 and item.variant == uuid.RFC_4122 for item in parsed)
    assert len(set(ids)) == len(ids)
    timestamps = [item.int >> 80 for item in parsed]
    assert timestamps == sorted(timestamps)  # the millisecond prefix never goes backwards
