"""Times shown in a zone the reader chooses, beside UTC (never instead of it).

The vault holds UTC and every command prints UTC; an incident responder lining the trail up with a firewall log,
or a DPO reading a deadline, wants the same moment where they or the controller are. ``--zone`` takes an IANA name
or ``local`` (this computer's zone) on the commands that offer it (`breach show`, `audit tail`).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.core.errors import ConfigError

LOCAL = ""  # the zone named "local": offset_text reads an empty name as this computer's zone


def chosen_zone(given: str | None, default: str | None = None) -> str | None:
    """The zone of a ``--zone`` option: ``local`` → LOCAL, an IANA name checked, None → ``default``."""
    if given is None:
        return default
    if given == "local":
        return LOCAL
    try:
        ZoneInfo(given)
    except (ValueError, ZoneInfoNotFoundError) as exc:
        raise ConfigError(f"{given!r} is not a time zone: give an IANA name such as Europe/Berlin, or local.") from exc
    return given


def zone_name(zone: str | None) -> str:
    """How a zone is named to the reader: its IANA name, or "this computer" for LOCAL/None."""
    return zone or "this computer"


def offset_time(moment: datetime, zone: str | None = None) -> str:
    """``2026-11-05 10:00:30 +01:00``: to the second, with the offset from UTC written out (a name alone leaves the
    reader to work out summer time), in ``zone`` or, LOCAL/None, this computer's zone."""
    local = moment.astimezone(ZoneInfo(zone)) if zone else moment.astimezone()
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}"


def offset_text(moment: datetime, zone: str | None = None) -> str:
    """``2026-11-05 10:00:30 +01:00 Europe/Berlin``: :func:`offset_time` with the zone named."""
    return f"{offset_time(moment, zone)} {zone_name(zone)}"
