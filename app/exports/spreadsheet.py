"""Text cells that a spreadsheet must not run as formulas (CSV injection), and what an Excel cell can hold.

A cell of text beginning with ``=``, ``+``, ``-``, ``@`` (or a tab/CR) is a formula to Excel and LibreOffice when
read from CSV, where a cell has no type: a telephone number written "+49 30 1234567" opens as ``#NULL!`` and a
value sent as ``=HYPERLINK(…)`` as a live link. Such a cell gets a leading apostrophe, the convention spreadsheets
show as "text". XLSX and ODS cells carry their type (string), so they need no mark.

An Excel cell holds at most 32,767 characters and no control characters other than tab, line feed and carriage
return (openpyxl refuses the file otherwise): ``xlsx_text`` keeps a cell within both, saying where it cut.
"""

from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_CELL_LIMIT = 32_767  # characters in one Excel cell
XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # openpyxl's ILLEGAL_CHARACTERS_RE


def defused(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet shows as text, never runs."""
    return "'" + text if text.startswith(FORMULA_START) else text


def xlsx_text(text: str, whole_in: str) -> str:
    """``text`` as an XLSX cell can hold it: control characters shown as ``�`` (a file with one cannot be saved), and
    text past the limit cut with a note that says how long it was and where it is whole (``whole_in``)."""
    kept = XLSX_ILLEGAL.sub("\ufffd", text)
    if len(kept) <= XLSX_CELL_LIMIT:
        return kept
    note = f" … [cut: {len(kept):,} characters in all; the whole text is {whole_in}]"
    return kept[: XLSX_CELL_LIMIT - len(note)] + note
