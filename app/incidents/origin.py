"""Where an incident came from, in words: opened by hand, or raised by which alert rule, on which trail entry.

A candidate is opened by the alert engine with ``source = "alert:<rule>"`` and the seq of its ``alert.raised``
entry (app/jobs.py). Before, ``breach show`` printed neither: an operator deciding on a candidate saw the title
("Candidate from alert: …", which can be edited) and not what raised it. The alert entry holds the rule, its
threshold, what was observed and the window, no personal data (app/siem/alerts.py), so it can be shown as is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, select

from app.audit.tables import AuditEvent

ALERT_PREFIX = "alert:"
ALERT_KIND = "alert.raised"
_A = AuditEvent.__table__


@dataclass(frozen=True)
class Origin:
    rule: str | None  # the alert rule that raised the incident; None when opened by hand
    alert_seq: int | None  # the seq of its alert.raised entry on the trail
    summary: str = ""  # the alert's own words (counts and names, no personal data)
    window: str = ""  # the alert's window, as the trail holds it (UTC)

    def describe(self) -> str:
        if self.rule is None:
            return "opened by hand"
        entry = f"{ALERT_KIND}, audit entry {self.alert_seq}" if self.alert_seq is not None else ALERT_KIND
        said = f": {self.summary}" if self.summary else ""
        window = f"; window {self.window}" if self.window else ""
        return f"alert rule {self.rule} ({entry}){said}{window}"


def origin_of(conn: Connection, source: str, alert_seq: int | None) -> Origin:
    """The origin of an incident whose row holds ``source`` and ``alert_seq``."""
    if not source.startswith(ALERT_PREFIX):
        return Origin(None, None)
    rule = source.removeprefix(ALERT_PREFIX)
    if alert_seq is None:
        return Origin(rule, None)
    row = conn.execute(select(_A.c.details).where(_A.c.seq == alert_seq, _A.c.kind == ALERT_KIND)).first()
    details = json.loads(row[0]) if row is not None else {}
    if details.get("rule") != rule:  # not the entry that raised it (the trail says otherwise): name the rule only
        return Origin(rule, alert_seq)
    start, end = details.get("window_start"), details.get("window_end")
    window = f"{start} to {end}" if start and end and start != end else ""
    return Origin(rule, alert_seq, str(details.get("summary") or ""), window)
