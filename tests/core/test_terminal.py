"""Names printed on a terminal show their control characters instead of obeying them."""

from __future__ import annotations

from app.core.terminal import shown


def test_control_characters_are_written_as_escapes() -> None:
    assert shown("a\nWrote b\x1b[31mred\x07\r\t") == "a\\nWrote b\\x1b[31mred\\x07\\r\\t"
    assert shown("\x9b2J \x7f \u2028 \u202egnp.exe") == "\\x9b2J \\x7f \\u2028 \\u202egnp.exe"


def test_ordinary_names_are_left_as_they_are() -> None:
    for name in ("/home/dpo/Exports/ropa 2026.xlsx", r"C:\Users\dpo\ropa.xlsx", "Übersicht–Verzeichnis ✓.pdf"):
        assert shown(name) == name
