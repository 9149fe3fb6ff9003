"""The requests a person made, as their own subject-access export lists them (Art. 15): the register holds
personal data about them too (that they asked, when, for what, how it was answered), and an export that listed
only the directory's attributes and said "Custos keeps no other attribute about you" left the register out.

Dates and states only: the sealed details (the requester's name, where to answer, notes) are named, not
opened, because a representative's name and authority are another person's data (Art. 15(4))."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, exists, select

from app.core.utc import as_utc
from app.dsr import model
from app.dsr.deadline import in_force, received_day
from app.dsr.tables import DsrRequest, DsrStep

_Q = DsrRequest.__table__
_S = DsrStep.__table__
SEALED_NOTE = (
    "The details recorded with each request (who asked, where to answer, notes) are kept encrypted; ask the "
    "controller for them."
)


def requests_about(conn: Connection, pseudonym: str) -> list[dict[str, Any]]:
    """Each request matched to the person (by their pseudonym), newest first."""
    refused = exists().where(_S.c.request_id == _Q.c.id, _S.c.state == "refused")
    rows = conn.execute(
        select(_Q, refused.label("any_refused")).where(_Q.c.subject == pseudonym).order_by(_Q.c.received.desc())
    ).all()
    return [
        {
            "id": row.id,
            "rights": [model.RIGHTS.get(right, right) for right in json.loads(row.rights)],
            "received_day": received_day(as_utc(row.received), row.zone).isoformat(),
            "due": in_force(row.due, row.extended_due, bool(row.any_refused)).isoformat(),  # a refusal: Art. 12(4)
            "time_zone": row.zone,
            "state": row.state,
            "answered_on": row.answered_on.isoformat() if row.answered_on else None,
            "requester": row.requester,
            "details_sealed": row.sealed is not None,
        }
        for row in rows
    ]
