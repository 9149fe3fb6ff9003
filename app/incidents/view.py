"""An incident as read from the register: its fields, its notifications, its time history, and the state
and 72-hour clock that follow from them. No writing here (``app.incidents.register`` writes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.incidents import clock, times


@dataclass(frozen=True)
class Notification:
    at: datetime
    kind: str
    reference: str
    summary: str
    number: int = 0  # 1, 2, … in the order recorded: how an operator names one to correct its time
    id: int = 0


@dataclass(frozen=True)
class IncidentView:
    id: int
    fields: dict[str, Any]
    notifications: list[Notification] = field(default_factory=list)
    history: tuple[times.TimeEntry, ...] = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self.fields[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    @property
    def first_notified(self) -> datetime | None:
        initial = [n.at for n in self.notifications if n.kind == "initial"]
        return min(initial) if initial else None

    @property
    def aware_anchor(self) -> datetime | None:
        """What the deadline runs from: the earliest awareness ever recorded, whatever was corrected since."""
        return times.earliest(self.history, "aware_at") or self.fields["aware_at"]

    def entries(self, name: str, notification_id: int | None = None) -> list[times.TimeEntry]:
        return [e for e in self.history if e.name == name and e.notification_id == notification_id]

    def clock(self, now: datetime) -> clock.ClockStatus:
        return clock.status(self.aware_anchor, self.first_notified, now, closed=self.fields["closed_at"] is not None)

    @property
    def state(self) -> str:
        if self.fields["closed_at"]:
            return "closed"
        if self.first_notified:
            return "notified"
        return "open" if self.fields["aware_at"] else "candidate"


def state_text(view: IncidentView) -> str:
    """The register's state, told apart where it matters to a DPO: only an alert's incident is a "candidate";
    one opened by hand awaits awareness; a dismissed candidate says so. Here, not in app.services, so that the
    register's export (app/exports/breach_register.py) says each state as the Incidents page does."""
    if view.state == "candidate" and not str(view.source).startswith("alert:"):
        return "awaiting awareness"
    if view.state == "closed" and view.aware_at is None:
        return "dismissed"
    return view.state
