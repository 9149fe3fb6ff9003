"""The breach register (Art. 33 and 34), the use cases behind ``custos breach`` and the app's Incidents page, and
how an incident's state is told to a DPO wherever it is shown (the Incidents page, the Overview)."""

from __future__ import annotations

from datetime import datetime

from app.incidents.register import IncidentView


def state_text(view: IncidentView) -> str:
    """The register's state, told apart where it matters to a DPO: only an alert's incident is a "candidate";
    one opened by hand awaits awareness; a dismissed candidate says so."""
    if view.state == "candidate" and not str(view.source).startswith("alert:"):
        return "awaiting awareness"
    if view.state == "closed" and view.aware_at is None:
        return "dismissed"
    return view.state


def clock_text(view: IncidentView, now: datetime) -> str:
    """The clock column; a dismissed candidate has no deadline (it was judged not to be a breach)."""
    if state_text(view) == "dismissed":
        return "no deadline: dismissed as not a personal-data breach"
    return view.clock(now).describe()
