"""How the app writes a stored moment for the person at the workstation: their zone, and which zone it is."""

from __future__ import annotations

from datetime import UTC, datetime


def local_time(moment: datetime) -> str:
    """A stored moment in the workstation's zone, naming the zone: a bare "14:00" beside the UTC times of the
    audit trail and the breach clock cannot be told apart from them."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # the vault stores UTC
    local = aware.astimezone()
    # The zone's name where the system has one ("CET"), else its offset ("UTC+01:00"): never a bare time.
    zone = local.tzname() or f"UTC{local.strftime('%z')[:3]}:{local.strftime('%z')[3:]}"
    return f"{local:%Y-%m-%d %H:%M:%S} {zone}"
