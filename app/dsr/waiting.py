"""The requests whose Art. 12(3) clock runs, with the deadline in force: read by the deadline alerts (app.dsr.alerts)
and the desktop notices (app.notices.deadlines), so both hold the same request to the same day.

Left out: answered and closed requests, a clock standing still for identity information (Art. 12(6)), and a request
recorded as not a GDPR request (no Art. 12(3) deadline: it raised "data subject request" alerts). A request with a
right refused is held to the one-month date, not its extension (Art. 12(4), app.dsr.deadline.in_force).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, exists, select

from app.dsr import deadline
from app.dsr.tables import DsrRequest, DsrStep

_Q = DsrRequest.__table__
_S = DsrStep.__table__


@dataclass(frozen=True)
class Waiting:
    id: str
    due: date  # the deadline in force
    zone: str
    alerts: str  # the deadline alerts already raised ("7d:2026-03-02 …")
    refusal: bool  # held to Art. 12(4)'s month because a right was refused


def waiting(conn: Connection) -> list[Waiting]:
    refused = exists().where(_S.c.request_id == _Q.c.id, _S.c.state == "refused")
    rows = conn.execute(
        select(_Q.c.id, _Q.c.rights, _Q.c.due, _Q.c.extended_due, _Q.c.zone, _Q.c.alerts, refused.label("refused"))
        .where(_Q.c.state.in_(("open", "in_progress")), _Q.c.answered_on.is_(None), _Q.c.paused_since.is_(None))
    ).all()
    return [
        Waiting(row.id, deadline.in_force(row.due, row.extended_due, bool(row.refused)), row.zone, row.alerts,
                bool(row.refused) and row.extended_due is not None)
        for row in rows
        if "not_gdpr" not in json.loads(row.rights)
    ]  # fmt: skip
