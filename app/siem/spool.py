"""The audit trail as the spool: a cursor per consumer says up to which seq it has taken the trail.

Nothing is copied out of the trail to wait for a collector: what is pending is simply every entry after the
cursor, in seq order. A cursor moves only in a vault write transaction, and only forward.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from app.audit.tables import AuditEvent
from app.audit.trail import StoredEvent, read
from app.siem.tables import SiemCursor
from app.store.vault import Vault

_C = SiemCursor.__table__
_A = AuditEvent.__table__
ALERTS = "(anomaly rules)"  # the alert engine's own cursor; not a collector


def cursor(conn: Connection, destination: str) -> int:
    """The last seq acknowledged for ``destination`` (0: nothing yet)."""
    return int(conn.execute(select(_C.c.last_seq).where(_C.c.destination == destination)).scalar() or 0)


def has_cursor(conn: Connection, destination: str) -> bool:
    return conn.execute(select(_C.c.last_seq).where(_C.c.destination == destination)).first() is not None


def advance(conn: Connection, destination: str, seq: int) -> None:
    """Move the cursor to ``seq`` (never backwards), in the caller's write transaction."""
    now = datetime.now(UTC)
    moved = conn.execute(
        update(_C).where(_C.c.destination == destination, _C.c.last_seq <= seq).values(last_seq=seq, updated=now)
    ).rowcount
    if not moved and not has_cursor(conn, destination):
        conn.execute(insert(_C).values(destination=destination, last_seq=seq, updated=now))


def cursors(conn: Connection) -> list[tuple[str, int]]:
    """Every collector's cursor (the alert engine's excluded)."""
    rows = conn.execute(select(_C.c.destination, _C.c.last_seq).order_by(_C.c.destination))
    return [(row.destination, int(row.last_seq)) for row in rows if row.destination != ALERTS]


def lagging(conn: Connection) -> list[tuple[str, int, datetime]]:
    """(destination, entries pending, when its cursor last moved) of every collector with entries still to take."""
    newest = last_seq(conn)
    rows = conn.execute(select(_C.c.destination, _C.c.last_seq, _C.c.updated).where(_C.c.destination != ALERTS))
    return [
        (name, newest - int(seq), moved if moved.tzinfo else moved.replace(tzinfo=UTC))
        for name, seq, moved in rows
        if int(seq) < newest
    ]


def last_seq(conn: Connection) -> int:
    return int(conn.execute(select(func.max(_A.c.seq))).scalar() or 0)


def pending(conn: Connection, destination: str) -> int:
    """How many entries ``destination`` has not acknowledged yet."""
    after = cursor(conn, destination)
    return int(conn.execute(select(func.count()).select_from(_A).where(_A.c.seq > after)).scalar_one())


def events_after(conn: Connection, seq: int, limit: int = 500) -> list[StoredEvent]:
    """At most ``limit`` entries after ``seq``, in order."""
    events: list[StoredEvent] = []
    for event in read(conn, seq + 1, min(limit, 1000)):
        events.append(event)
        if len(events) >= limit:
            break
    return events


def tail(vault: Vault, after: int, limit: int = 500) -> list[StoredEvent]:
    """The next entries after seq ``after`` (empty when there are none), read in their own connection."""
    with vault.read_connection() as conn:
        return events_after(conn, after, limit)


def forget(conn: Connection, destination: str) -> int | None:
    """Drop ``destination``'s cursor (a collector no longer used), in the caller's write transaction; the seq it had
    reached, or None when there was none. Its cursor held every later entry against the trail's retention period
    (app/trail_retention.py); the anomaly rules' own cursor is not a destination and is never dropped."""
    if destination == ALERTS or not has_cursor(conn, destination):
        return None
    reached = cursor(conn, destination)
    conn.execute(delete(_C).where(_C.c.destination == destination))
    return reached
