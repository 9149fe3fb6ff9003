"""One audit entry is one line for a SIEM, whatever text it carries.

CEF escapes ``\\n`` and ``\\r`` and JSON escapes U+0000–U+001F, but a line reader that follows Unicode (Python's
``splitlines``, .NET's ``ReadLine`` and several log shippers) also ends a line at NEL (U+0085) and at the line and
paragraph separators (U+2028, U+2029): an operator-chosen bundle file name or an actor recorded with one split an
entry in two, the second part free to look like an entry of its own. DEL and the C1 controls are terminal controls
when an analyst reads the file. In JSON they are written as ``\\uXXXX`` escapes (nothing is lost); in CEF values,
which have no such escape, as U+FFFD.
"""

from __future__ import annotations

import json
import re
from typing import Any

_JSON_LEFT_RAW = re.compile("[\x7f-\x9f\u2028\u2029]")  # what json.dumps(ensure_ascii=False) leaves as it is
_CEF_LEFT_RAW = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # after \\n and \\r have their CEF escapes


def json_line(value: Any, **dumps: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **dumps)`` with every character a line reader may break at or a
    terminal may obey written as its ``\\uXXXX`` escape."""
    text = json.dumps(value, ensure_ascii=False, **dumps)
    return _JSON_LEFT_RAW.sub(lambda match: f"\\u{ord(match.group(0)):04x}", text)


def cef_safe(value: str) -> str:
    """The controls and separators CEF has no escape for, as U+FFFD (call after the CEF escapes)."""
    return _CEF_LEFT_RAW.sub("\ufffd", value)
