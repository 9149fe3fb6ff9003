"""Line numbers for the keys of a TOML document, so that every policy problem can name its line.

tomllib parses without positions and tomlkit keeps none either, so this reads the text once, tracking table
headers (``[controller]``, ``[[purposes]]`` with its occurrence index) and the keys under them. It
understands the subset of TOML a policy file uses; anything it cannot place falls back to the table's line.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=")

Where = tuple[str | int, ...]


class LineLocator:
    def __init__(self, text: str) -> None:
        self._lines: dict[Where, int] = {}
        counts: dict[str, int] = {}
        table: Where = ()
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header:
                name = header.group(2).replace('"', "")
                parts: list[str | int] = list(name.split("."))
                if header.group(1) == "[[":
                    index = counts.get(name, 0)
                    counts[name] = index + 1
                    parts.append(index)
                table = tuple(parts)
                self._lines.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                self._lines.setdefault((*table, key.group(1).strip('"')), number)

    def line(self, *where: str | int) -> int:
        """The line of the most specific known prefix of ``where`` (1 when nothing matches)."""
        parts = tuple(where)
        while parts:
            if parts in self._lines:
                return self._lines[parts]
            parts = parts[:-1]
        return 1


def table_at(text: str, line: int) -> Where:
    """The table a line belongs to: ``("purposes", 1)`` for the second ``[[purposes]]``, ``()`` above the first
    header. The policy editor files each loader message under the entry it concerns."""
    counts: dict[str, int] = {}
    table: Where = ()
    for number, content in enumerate(text.splitlines(), start=1):
        if number > line:
            break
        header = _HEADER.match(content)
        if header:
            name = header.group(2).replace('"', "")
            parts: list[str | int] = list(name.split("."))
            if header.group(1) == "[[":
                parts.append(counts.get(name, 0))
                counts[name] = counts.get(name, 0) + 1
            table = tuple(parts)
    return table
