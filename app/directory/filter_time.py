"""The moment a filter compares a dateTime attribute with (``meta.lastModified gt "…"``), read strictly.

RFC 7643 §2.3.5: a dateTime is an xsd:dateTime "and MUST include both a date and a time". XML Schema (§3.3.7) lets
the zone be left out, but then the value is local time *somewhere*, and its order against a moment with a zone is
indeterminate for up to 14 hours. Custos stores every moment in UTC, so it answers only for a moment it can place:

* ``2026-01-01T00:00:00`` (no zone) was read as UTC: an IdP or an auditor in another zone silently got the changes of
  a different window. Refused, naming the form to send (decision 0053);
* ``2026-01-01`` (a date alone) was read as midnight UTC, so ``meta.created eq "2026-01-01"`` matched nothing and
  ``gt`` meant "after midnight UTC". Refused: it is no dateTime;
* forms Python reads but xsd:dateTime is not (a space for ``T``, no seconds, ``20260101T000000Z``, ``2026-W01``)
  are refused too, rather than each given a meaning of its own;
* digits past the microsecond (Java's and Go's nanoseconds) are kept only when zero: Custos keeps microseconds, and
  cutting ``.0000009`` off would turn ``ge`` into ``gt`` on a moment it holds.
"""

from __future__ import annotations

import re
from typing import Any

from app.directory.errors import invalid_filter
from app.directory.indexing import normalise_datetime

EXPECTED = 'a quoted RFC 3339 (ISO 8601) date and time with its zone, such as "2024-01-31T09:30:00Z"'
# xsd:dateTime with a zone; "t" and "z" in either case (RFC 7643 §2.3.5: a dateTime "has no case sensitivity").
_WITH_ZONE = re.compile(
    r"(?P<moment>\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d+))?(?P<zone>[Zz]|[+-]\d{2}:\d{2})"
)
_WITHOUT_ZONE = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def filter_moment(value: Any, name: str) -> str:
    """``value`` as the index stores a moment (UTC, microseconds), or 400 invalidFilter saying what to send.

    The detail names the attribute and the expected form, never the value sent."""
    text = value if isinstance(value, str) else None
    match = _WITH_ZONE.fullmatch(text) if text is not None else None
    if match is None:
        raise invalid_filter(f"'{name}' is a dateTime: compare it with {EXPECTED}.{_why_not(text)}")
    fraction = match.group("fraction") or ""
    if fraction[6:].strip("0"):
        raise invalid_filter(f"'{name}' is kept to the microsecond: give at most six digits after the seconds.")
    zone = match.group("zone").upper()
    iso = f"{match.group('moment').upper()}{'.' + fraction[:6] if fraction else ''}{'+00:00' if zone == 'Z' else zone}"
    try:
        return normalise_datetime(iso)
    except (ValueError, OverflowError) as exc:  # a 30 February; OverflowError: year 1 or 9999 moved past UTC
        raise invalid_filter(f"'{name}' is a dateTime: compare it with {EXPECTED}.") from exc


def _why_not(text: str | None) -> str:
    """What is missing from a near miss, so the client knows what to change."""
    if text is None:
        return ""
    if _WITHOUT_ZONE.fullmatch(text):
        return " Without a zone the time is local somewhere, and Custos will not guess where."
    if _DATE_ONLY.fullmatch(text):
        return " A date alone is no moment (RFC 7643 §2.3.5 requires a date and a time)."
    return ""
