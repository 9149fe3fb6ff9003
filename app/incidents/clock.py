"""The Art. 33(1) clock: notify the supervisory authority within 72 hours of becoming aware.

72 hours exactly, weekends and holidays included (EDPB Guidelines 9/2022 read the deadline that way; no pause).
The clock starts only at the "aware" time a person set; until then it is "not started", never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.core.utc import utc_text

DEADLINE = timedelta(hours=72)


@dataclass(frozen=True)
class ClockStatus:
    state: str  # not_started | running | overdue | notified_in_time | notified_late | closed_unnotified
    deadline: datetime | None
    remaining: timedelta | None  # negative when overdue

    def describe(self, *, seconds: bool = False) -> str:
        """The state in a sentence; ``seconds``: the deadline to the second, as ``breach show`` gives every time."""
        deadline_text = utc_text(self.deadline, seconds=seconds) if self.deadline else ""
        if self.state == "not_started":
            return "72-hour clock not started: no one has yet recorded when the controller became aware"
        assert self.deadline is not None
        if self.state == "closed_unnotified":
            return f"stopped: closed without notification, its rationale recorded (deadline was {deadline_text})"
        assert self.remaining is not None
        if self.state == "running":
            return f"{_span(self.remaining)} left (deadline {deadline_text})"
        if self.state == "overdue":
            return f"OVERDUE by {_span(-self.remaining)} (deadline was {deadline_text}); a reason is required"
        if self.state == "notified_in_time":
            return f"notified in time (deadline {deadline_text})"
        return f"notified late (deadline was {deadline_text})"

    def short(self) -> str:
        """The state in a few words, for a narrow column; the deadline itself is shown beside it."""
        if self.state == "not_started":
            return "not started (no awareness recorded)"
        if self.state == "closed_unnotified":
            return "stopped (closed, not notified)"
        assert self.remaining is not None
        if self.state == "running":
            return f"{_span(self.remaining)} left"
        if self.state == "overdue":
            return f"OVERDUE by {_span(-self.remaining)}"
        return "notified in time" if self.state == "notified_in_time" else "notified late"


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    return (f"{days} d " if days else "") + f"{hours} h {minutes:02d} min"


def local_text(moment: datetime, zone: str | None = None) -> str:
    local = moment.astimezone(ZoneInfo(zone)) if zone else moment.astimezone()
    return local.strftime("%Y-%m-%d %H:%M %Z")


def zoned_text(moment: datetime, zone: str) -> str:
    """``2026-11-05 10:00 Europe/Berlin``: a time where the controller is, the zone named by its IANA name (an
    abbreviation such as "CET" or "IST" names several zones), to be shown after the UTC time, never instead."""
    return f"{moment.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone}"


def deadline_of(aware_at: datetime) -> datetime:
    if aware_at.tzinfo is None:
        raise ValueError("the aware time must carry its time zone")
    # In UTC: Python adds a timedelta to a zoned time on the wall clock, which across a DST change would be
    # 71 or 73 real hours. The deadline is 72 elapsed hours.
    return aware_at.astimezone(UTC) + DEADLINE


def status(
    aware_at: datetime | None, first_notified_at: datetime | None, now: datetime, closed: bool = False
) -> ClockStatus:
    """Where the clock stands at ``now``. ``closed``: the incident was closed; closing an unnotified one needs the
    rationale for not notifying (Art. 33(1): unlikely to result in a risk), so its clock stops there rather than
    read "running" and, three days on, "OVERDUE … a reason is required" for an incident already decided."""
    if aware_at is None:
        return ClockStatus("not_started", None, None)
    deadline = deadline_of(aware_at)
    if first_notified_at is not None:
        state = "notified_in_time" if first_notified_at <= deadline else "notified_late"
        return ClockStatus(state, deadline, deadline - first_notified_at)
    if closed:
        return ClockStatus("closed_unnotified", deadline, None)
    remaining = deadline - now
    return ClockStatus("running" if remaining > timedelta(0) else "overdue", deadline, remaining)
