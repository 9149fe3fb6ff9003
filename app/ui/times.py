"""How the app writes a stored moment for the person at the workstation: their zone, and which zone it is."""

from __future__ import annotations

from datetime import UTC, datetime


def local_time(moment: datetime) -> str:
    """A stored moment in the workstation's zone, naming the zone: a bare "14:00" beside the UTC times of the
    audit trail and the breach clock cannot be told apart from them."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # the vault stores UTC
    return aware.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z").rstrip()
