"""A count with its noun in agreement: "1 row", "2 rows", "1,024 entries". Said once here because a bare
``f"{n} rows"`` reads "1 rows" on the one day the count is 1."""

from __future__ import annotations


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """``number`` (thousands separated) and the singular or plural noun; ``plural`` defaults to singular + "s"."""
    noun = singular if number == 1 else (plural or f"{singular}s")
    return f"{number:,} {noun}"
