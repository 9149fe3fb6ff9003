"""A count with its noun in agreement: "1 row", "2 rows", "1,024 entries". Said once here because a bare
``f"{n} rows"`` reads "1 rows" on the one day the count is 1."""

from __future__ import annotations


def counted(number: int, singular: str, plural: str | None = None, *, grouped: bool = True) -> str:
    """``number`` (thousands separated) and the singular or plural noun; ``plural`` defaults to singular + "s".
    ``grouped=False`` keeps the figure bare ("1024 accounts"): for printed lines that are a contract, whose figures
    scripts read as they always were and which only lose their "(s)"."""
    noun = singular if number == 1 else (plural or f"{singular}s")
    return f"{number:,} {noun}" if grouped else f"{number} {noun}"
