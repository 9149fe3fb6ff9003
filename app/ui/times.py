"""How the app writes a stored moment for the person at the workstation: their zone, and which zone it is."""

from __future__ import annotations

from datetime import UTC, datetime


def _local(moment: datetime) -> tuple[datetime, str]:
    """The moment in the workstation's zone, and the zone's name where the system has one ("CET"), else its offset
    ("UTC+01:00"): never a bare time."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # the vault stores UTC
    local = aware.astimezone()
    offset = local.strftime("%z")
    return local, local.tzname() or f"UTC{offset[:3]}:{offset[3:]}"


def local_time(moment: datetime) -> str:
    """A stored moment in the workstation's zone, naming the zone: a bare "14:00" beside the UTC times of the
    audit trail and the breach clock cannot be told apart from them."""
    local, zone = _local(moment)
    return f"{local:%Y-%m-%d %H:%M:%S} {zone}"


def local_minute(moment: datetime) -> str:
    """The same, to the minute ("2026-12-03 10:15 CET"): a table of several moments side by side (the backup key
    epochs) fits its dialog, as the command line's table does with its minutes in UTC."""
    local, zone = _local(moment)
    return f"{local:%Y-%m-%d %H:%M} {zone}"


def local_clock(moment: datetime) -> str:
    """The same, to the minute and without the date ("09:05 CET"): when an action's outcome was said."""
    local, zone = _local(moment)
    return f"{local:%H:%M} {zone}"


def local_slot(moment: datetime) -> str:
    """A chart slot's start to the minute, with the date and the zone ("02 Dec 13:00 CET")."""
    local, zone = _local(moment)
    return f"{local:%d %b %H:%M} {zone}"


def utc_day(moment: datetime) -> str:
    """A day slot ("Tue 01 Dec UTC"): the charts count days from UTC midnight, so the day is said in UTC. In the
    workstation's zone west of Greenwich the slot's start fell on the evening before and took that day's name."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"{aware.astimezone(UTC):%a %d %b} UTC"
