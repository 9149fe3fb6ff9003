"""The breach register in figures, for the records that cite it (the Art. 30 breach column, the overview).

A stable, public read: other packages derive what they state about breaches from here, from the register itself,
never from audit event kinds. Every incident counts, notified or not (Art. 33(5)).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from app.core.wording import counted
from app.incidents.tables import Incident, IncidentNotification

_I = Incident.__table__
_N = IncidentNotification.__table__


@dataclass(frozen=True)
class RegisterSummary:
    incidents: int  # every incident recorded, open or closed, notified or not
    notified: int  # with an initial notification to the supervisory authority (Art. 33(1))
    open: int  # not closed (candidates included)
    closed: int
    candidates: int  # opened from an alert, awareness not recorded, not closed
    notified_ids: tuple[int, ...] = ()  # the notified incidents' numbers, oldest first (for a "link to the record")

    def describe(self) -> str:
        if not self.incidents:
            return "No incident recorded in the breach register"
        return (f"{counted(self.incidents, 'incident', grouped=False)} recorded in the breach register: "
                f"{self.notified} notified to the "
                f"supervisory authority, {self.open} open, {self.closed} closed")  # fmt: skip


def summary(conn: Connection) -> RegisterSummary:
    """Counts from the register's rows (one read; works on any connection to the vault)."""
    rows = conn.execute(select(_I.c.id, _I.c.aware_at, _I.c.closed_at)).all()
    notified = {row[0] for row in conn.execute(select(_N.c.incident_id).where(_N.c.kind == "initial").distinct())}
    closed = sum(1 for row in rows if row.closed_at is not None)
    candidates = sum(1 for row in rows if row.closed_at is None and row.aware_at is None)
    return RegisterSummary(
        incidents=len(rows),
        notified=len(notified),
        open=len(rows) - closed,
        closed=closed,
        candidates=candidates,
        notified_ids=tuple(sorted(notified)),
    )
