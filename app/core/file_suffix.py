"""A written file's suffix says what it holds. Excel, LibreOffice and a file manager pick the program and the
reader by the suffix: CNIL's ODS model written as ``r.xlsx`` (or CSV as ``r.xlsx``, PDF as ``r.csv``) was a file
that failed to open, though the export said it was written. An export whose ``--out`` or chosen path ends in the
suffix of another document format is refused before anything is read or written; a name ending in no suffix, or in
one that names no document format (``.txt``, ``.bak``), is taken as given.
"""

from __future__ import annotations

from pathlib import Path

# Suffixes that name a document format a spreadsheet program, a PDF reader or a text editor opens by its bytes.
DOCUMENT_SUFFIXES = frozenset(
    {".xlsx", ".xlsm", ".xls", ".ods", ".odt", ".csv", ".tsv", ".json", ".jsonl", ".pdf", ".zip", ".docx", ".doc",
     ".html", ".htm", ".xml"}
)  # fmt: skip


# Of those, the ones whose bytes are never lines of text: a SIEM export (CEF lines, OCSF JSON lines) has no one
# suffix of its own (``.cef``, ``.log``, ``.jsonl``, ``.txt`` are all in use), but under one of these it is
# certainly mistaken for a file it is not.
NOT_TEXT_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".ods", ".odt", ".pdf", ".zip", ".docx", ".doc"})


def binary_suffix(out: Path) -> str | None:
    """The suffix of ``out`` (lower case, with its dot) when it names a format that is never lines of text."""
    own = out.suffix.lower()
    return own if own in NOT_TEXT_SUFFIXES else None


def other_suffix(out: Path, suffix: str) -> str | None:
    """The suffix of ``out`` (lower case, with its dot) when it names a document format other than ``suffix``
    (the one the export writes, without a dot); None when the name agrees with what is written or says nothing."""
    own = out.suffix.lower()
    return own if own in DOCUMENT_SUFFIXES and own != f".{suffix.lower()}" else None


def other_suffix_refusal(out: Path, suffix: str, writer: str, name: str) -> str | None:
    """The refusal of ``out`` when it ends in another document format's suffix than ``suffix``, else None.

    ``writer`` says what writes the file ("--format csv", "This export") and ``name`` what the reader gives the name
    to ("--out", "it"): each front end words it for where the name was typed (decision 0054)."""
    found = other_suffix(out, suffix)
    if found is None:
        return None
    return (
        f"{writer} writes {suffix.upper()}: give {name} a name ending in .{suffix}, not {found} (a program opening "
        f"it would read it as {found[1:].upper()} and fail). Nothing was written."
    )
