"""Lone UTF-16 surrogates: what a str can hold that is no Unicode text.

They reach Python from JSON escapes (``"\\ud800"``) and from command-line bytes that are not UTF-8 (decoded with
``surrogateescape``). SQLite, the audit trail's canonical JSON and every file writer refuse them mid-way, so each
entry point refuses them first, with its own message.
"""

from __future__ import annotations


def has_lone_surrogate(text: str) -> bool:
    """Whether ``text`` cannot be written as UTF-8 (the only reason a str cannot)."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
