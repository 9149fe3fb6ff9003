"""What an executed statement hands back, typed: SQLAlchemy declares ``inserted_primary_key`` optional because
only an INSERT has one, so each caller would otherwise repeat the check."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult


def inserted_id(result: CursorResult[Any]) -> int:
    """The integer primary key a single-row INSERT assigned."""
    key = result.inserted_primary_key
    if key is None:  # not an INSERT (or an executemany): a programming error, not bad input
        raise TypeError("the statement inserted no single row")
    return int(key[0])
