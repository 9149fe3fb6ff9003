"""How far an entry's time may run behind the entries written before it (decision 0034).

The trail's order is the order of writing (``seq``, the hash chain); an entry's ``at`` is when its event happened.
The two agree for an entry written in the transaction of the change it records. A request entry is timed when the
request was answered and written later by the request recorder (app/audit/recorder.py), in a batch, normally a
quarter of a second later: it can carry a time earlier than entries written just before it.

Readers that turn a time range into a range of ``seq`` (app/audit/query.py) rely on this bound: no entry is
earlier than an entry before it by more than ``margin(conn)``. It is ``LATE_AFTER`` unless the recorder wrote
entries later than that (a writer held up for minutes): it then says so on the trail (``LATE_KIND``, with the
largest delay), and the margin grows to cover it. A clock stepped back is not covered (``audit verify`` notes it).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, text

LATE_AFTER = timedelta(seconds=60)
LATE_KIND = "audit.recorder.late"
# Kinds timed when they happened in the SCIM server and written afterwards by the recorder, in the order they
# happened: among themselves their times never go back, but they may trail the entries written before them.
TIMED_AT_THE_SOURCE = frozenset({"scim.request", "scim.auth.throttled"})
# The index is named: with statistics taken from a small trail the planner scans the whole table for these rows.
LARGEST_RECORDED_DELAY = text(
    "SELECT max(CAST(CASE WHEN json_valid(details) THEN json_extract(details, '$.seconds') END AS INTEGER)) "
    "FROM audit_events INDEXED BY ix_audit_kind_seq WHERE kind = :kind"
).bindparams(kind=LATE_KIND)


def delay_seconds(happened: datetime, written: datetime) -> float:
    """Seconds from the event to its writing (naive times are UTC, as the trail stores them)."""
    happened = happened if happened.tzinfo else happened.replace(tzinfo=UTC)
    written = written if written.tzinfo else written.replace(tzinfo=UTC)
    return (written - happened).total_seconds()


def late_details(delays: list[float]) -> dict[str, int] | None:
    """The details of a ``LATE_KIND`` entry for a batch with these delays, or None when none is over the bound."""
    over = [delay for delay in delays if delay > LATE_AFTER.total_seconds()]
    if not over:
        return None
    return {"count": len(over), "seconds": math.ceil(max(over)), "bound_seconds": int(LATE_AFTER.total_seconds())}


def margin(conn: Connection) -> timedelta:
    """The bound readers may rely on: ``LATE_AFTER``, or the largest delay a ``LATE_KIND`` entry records (read
    through the (kind, seq) index: no scan of the trail; a row whose details are not JSON counts for nothing)."""
    recorded = conn.execute(LARGEST_RECORDED_DELAY).scalar()
    if isinstance(recorded, int) and recorded > LATE_AFTER.total_seconds():
        return timedelta(seconds=recorded + 1)
    return LATE_AFTER
