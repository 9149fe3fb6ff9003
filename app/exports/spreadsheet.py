"""Text cells that a spreadsheet must not run as formulas (CSV injection).

A cell of text beginning with ``=``, ``+``, ``-``, ``@`` (or a tab/CR) is a formula to Excel and LibreOffice when
read from CSV, where a cell has no type: a telephone number written "+49 30 1234567" opens as ``#NULL!`` and a
value sent as ``=HYPERLINK(…)`` as a live link. Such a cell gets a leading apostrophe, the convention spreadsheets
show as "text". XLSX and ODS cells carry their type (string), so they need no mark.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defused(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet shows as text, never runs."""
    return "'" + text if text.startswith(FORMULA_START) else text
