"""UTC as Custos stores and states it.

SQLite hands stored times back without their zone, and every time the vault holds is UTC: ``as_utc`` puts the zone
back (and brings any aware time to UTC). Text meant to be read elsewhere — a receipt, a CLI line, a notification
draft, a report — says "UTC" rather than leaving the zone to be guessed (the desktop's local times:
app/ui/times.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: datetime | None) -> datetime | None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_text(moment: datetime, *, seconds: bool = False) -> str:
    """``2026-12-02 14:05 UTC`` (with ``:SS`` when ``seconds``)."""
    return as_utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")
