"""Text from outside the program made safe to print on a terminal: control characters shown, never obeyed.

A file name may hold any byte but NUL and "/": a newline (a second, forged ``Wrote …`` line for a script that
reads the output), ESC sequences (colours, a cleared screen, a changed window title, on some terminals keys
typed back), a bell, or bidi controls that make a name read as another. Every name the command line prints that
the operator or a file system chose goes through :func:`shown`; the text of our own messages does not need to.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the bidi marks, embeddings, overrides
# and isolates (the "Trojan Source" characters).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    character = match.group(0)
    code = ord(character)
    return _NAMED.get(character) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def shown(value: object) -> str:
    """``value`` as text with each control character written as its escape (``\\n``, ``\\x1b``, ``\\u202e``); a
    backslash is left as it is (Windows paths stay readable)."""
    return _UNSAFE.sub(_escaped, str(value))
