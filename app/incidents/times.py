"""The history of an incident's times: append-only, so the 72-hour clock cannot be reset.

Each value ever recorded for a time (awareness, detection, the notifications, the communication to the data
subjects, and the other times of the timeline) is a row of ``incident_times``; a correction is a new row with a
reason, and the earlier rows stay. The clock runs from the EARLIEST awareness ever recorded: a correction can
bring the deadline forward, never push it back. No time may lie in the future beyond a small clock-skew allowance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, insert, select

from app.incidents.tables import IncidentTime

_T = IncidentTime.__table__
SKEW = timedelta(minutes=5)  # the clocks of the operator's machine and the authority's may differ a little
LABELS = {
    "occurred_from": "Occurred (from)",
    "occurred_to": "Occurred (to)",
    "detected_at": "Detected",
    "processor_notified_at": "Processor notified the controller",
    "investigation_at": "Investigation started",
    "aware_at": "Controller aware",
    "contained_at": "Contained",
    "subjects_informed_at": "Data subjects informed",
    "notified": "Notified the supervisory authority",
}
TIMES = tuple(name for name in LABELS if name != "notified")  # the times kept on the incident row


@dataclass(frozen=True)
class TimeEntry:
    name: str
    at: datetime
    recorded_at: datetime
    recorded_by: str
    reason: str
    notification_id: int | None = None

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.name)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def history(conn: Connection, incident_id: int) -> tuple[TimeEntry, ...]:
    """Every entry of one incident, in the order recorded."""
    rows = conn.execute(select(_T).where(_T.c.incident_id == incident_id).order_by(_T.c.id)).all()
    return tuple(
        TimeEntry(row.name, _utc(row.at), _utc(row.recorded_at), row.recorded_by, row.reason, row.notification_id)
        for row in rows
    )


def record(
    conn: Connection,
    incident_id: int,
    name: str,
    at: datetime,
    recorded_at: datetime,
    recorded_by: str,
    reason: str = "",
    notification_id: int | None = None,
) -> None:
    if name not in LABELS:
        raise ValueError(f"not a time of the register: {name}")
    conn.execute(
        insert(_T).values(incident_id=incident_id, name=name, notification_id=notification_id, at=at,
                          recorded_at=recorded_at, recorded_by=recorded_by[:120], reason=reason)
    )  # fmt: skip


def too_late(moment: datetime, now: datetime) -> bool:
    """True when ``moment`` lies in the future beyond the clock-skew allowance."""
    return moment > now + SKEW


def earliest(entries: tuple[TimeEntry, ...], name: str) -> datetime | None:
    values = [e.at for e in entries if e.name == name]
    return min(values) if values else None


def iso(moment: datetime | None) -> str | None:
    """For the audit trail: times are not personal data, and an auditor needs the old and the new one."""
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None
