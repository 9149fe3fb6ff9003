"""The outbox: durable work for the targets, written in the same transaction as the change it stems from.

Order per subject and target is kept by handing out only the oldest pending item of each (target, subject);
older pending upserts for a subject are superseded by a newer one (what is sent is read from the mirror at
push time, so the newest item carries every change).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, and_, func, insert, select, update

from app.feed.tables import OutboxItem, Target
from app.store.change_watch import cached

_O = OutboxItem.__table__
_T = Target.__table__
MAX_ATTEMPTS = 12
BASE_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 300.0
_ENABLED = select(_T.c.id).where(_T.c.enabled.is_(True))


@dataclass(frozen=True)
class WorkItem:
    seq: int
    target_id: int
    resource_type: str
    resource_id: str
    operation: str
    attempts: int


def _item(target_id: int, resource_type: str, resource_id: str, operation: str, moment: datetime) -> dict[str, object]:
    """One pending outbox row, due at once."""
    return {
        "target_id": target_id,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "operation": operation,
        "state": "pending",
        "attempts": 0,
        "next_attempt": moment,
        "created": moment,
    }


def enqueue(conn: Connection, resource_type: str, resource_id: str, operation: str, now: datetime | None = None) -> int:
    """One item per enabled target, in the caller's transaction. Returns how many were queued."""
    moment = now or datetime.now(UTC)
    # every SCIM write asks: cached on the one write connection until the targets table changes (decision 0031)
    targets = cached(conn, "targets", "enabled", lambda: [row[0] for row in conn.execute(_ENABLED)])
    if not targets:
        return 0
    conn.execute(insert(_O), [_item(target_id, resource_type, resource_id, operation, moment) for target_id in targets])
    return len(targets)


def enqueue_groups(conn: Connection, group_ids: list[str], now: datetime | None = None) -> int:
    """The groups a deleted member was in, pushed again to every enabled target (read from the mirror at push time,
    without the member): a target that does not cascade a user's deletion into its groups keeps the deleted
    person's id in their member lists otherwise. Returns how many items were queued."""
    return sum(enqueue(conn, "Group", group_id, "upsert", now) for group_id in group_ids)


def enqueue_for(
    conn: Connection, target_id: int, resource_type: str, resource_id: str, operation: str, now: datetime | None = None
) -> None:
    moment = now or datetime.now(UTC)
    conn.execute(insert(_O).values(_item(target_id, resource_type, resource_id, operation, moment)))


def enqueue_many(
    conn: Connection,
    target_id: int,
    resource_type: str,
    resource_ids: list[str],
    operation: str,
    now: datetime | None = None,
) -> int:
    """One item per subject for one target (an initial sync, a widened mapping or scope): one executemany."""
    moment = now or datetime.now(UTC)
    rows = [_item(target_id, resource_type, resource_id, operation, moment) for resource_id in resource_ids]
    for start in range(0, len(rows), 5000):
        conn.execute(insert(_O), rows[start : start + 5000])
    return len(rows)


def due(conn: Connection, now: datetime, exclude: set[int], limit: int = 200) -> list[WorkItem]:
    """The oldest pending item of each (target, subject) whose time has come, skipping items in flight."""
    head = (
        select(func.min(_O.c.seq).label("seq"))
        .where(_O.c.state == "pending")
        .group_by(_O.c.target_id, _O.c.resource_id)
        .subquery()
    )
    rows = conn.execute(
        select(_O.c.seq, _O.c.target_id, _O.c.resource_type, _O.c.resource_id, _O.c.operation, _O.c.attempts)
        .join(head, head.c.seq == _O.c.seq)
        .where(_O.c.next_attempt <= now)
        .order_by(_O.c.seq)
        .limit(limit + len(exclude))
    ).all()
    return [WorkItem(*row) for row in rows if row.seq not in exclude][:limit]


def has_pending(conn: Connection, target_id: int, resource_id: str) -> bool:
    """Whether a change of this subject waits to be pushed to this target (an index probe on ix_outbox_subject)."""
    statement = select(_O.c.seq).where(
        _O.c.target_id == target_id, _O.c.resource_id == resource_id, _O.c.state == "pending"
    )
    return conn.execute(statement.limit(1)).first() is not None


def earliest_pending(conn: Connection) -> datetime | None:
    """When the next pending item comes due (an index probe on ix_outbox_due): the dispatcher sleeps until then."""
    moment = conn.execute(select(func.min(_O.c.next_attempt)).where(_O.c.state == "pending")).scalar()
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # SQLite hands stored times back without their zone; they are UTC
    return moment


def shift_pending(conn: Connection, by: timedelta, now: datetime) -> int:
    """Move the times of pending items still to come earlier by ``by`` (the wall clock went back that far); returns
    how many. Row by row: SQLite stores the times as text, so no date arithmetic in SQL."""
    rows = conn.execute(select(_O.c.seq, _O.c.next_attempt).where(_O.c.state == "pending", _O.c.next_attempt > now))
    moved = 0
    for seq, moment in rows.all():
        conn.execute(update(_O).where(_O.c.seq == seq).values(next_attempt=moment - by))
        moved += 1
    return moved


def supersede_older_upserts(conn: Connection, item: WorkItem) -> int:
    """Newer pending upserts of the same subject make this one redundant: keep only the newest."""
    newest = conn.execute(
        select(func.max(_O.c.seq)).where(
            _O.c.target_id == item.target_id,
            _O.c.resource_id == item.resource_id,
            _O.c.state == "pending",
            _O.c.operation == "upsert",
        )
    ).scalar()
    blocking_delete = conn.execute(
        select(func.min(_O.c.seq)).where(
            _O.c.target_id == item.target_id,
            _O.c.resource_id == item.resource_id,
            _O.c.state == "pending",
            _O.c.operation == "delete",
        )
    ).scalar()
    if item.operation != "upsert" or newest is None or newest == item.seq:
        return 0
    upper = min(newest, blocking_delete) if blocking_delete else newest
    result = conn.execute(
        update(_O)
        .where(
            and_(
                _O.c.target_id == item.target_id,
                _O.c.resource_id == item.resource_id,
                _O.c.state == "pending",
                _O.c.operation == "upsert",
                _O.c.seq < upper,
            )
        )
        .values(state="superseded", finished=datetime.now(UTC))
    )
    return result.rowcount


def settle_failed(conn: Connection, item: WorkItem, now: datetime | None = None) -> int:
    """Older failed items of a subject that a later push has just carried out are behind it: a push sends the
    subject's latest state (a delete removes it), so nothing of theirs is left to do, and counting them "failed"
    kept a target "needs attention" for good — even after the operator fixed the cause and repaired it. An upsert
    settles failed upserts; a delete settles every older failure of the subject."""
    where = [_O.c.target_id == item.target_id, _O.c.resource_id == item.resource_id, _O.c.state == "failed",
             _O.c.seq < item.seq]  # fmt: skip
    if item.operation != "delete":
        where.append(_O.c.operation == item.operation)
    result = conn.execute(update(_O).where(*where).values(state="superseded", finished=now or datetime.now(UTC)))
    return result.rowcount


def _this(item: WorkItem) -> ColumnElement[bool]:
    """The row of ``item`` and no other. Its seq alone is not enough: SQLite gives the highest rowid again once
    that row is deleted (the table is not AUTOINCREMENT), and an erasure deletes its subject's items, maybe one in
    flight. The erasure's next item (its groups, pushed again without the person) then took that seq, and the
    finished push of the deleted item marked it done: the group was never pushed and kept the erased member."""
    return and_(
        _O.c.seq == item.seq,
        _O.c.target_id == item.target_id,
        _O.c.resource_id == item.resource_id,
        _O.c.operation == item.operation,
    )


def complete(conn: Connection, item: WorkItem, status: int | None, now: datetime | None = None) -> None:
    conn.execute(
        update(_O).where(_this(item)).values(state="done", last_status=status, finished=now or datetime.now(UTC))
    )


def backoff_delay(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter, or the target's own Retry-After when it is later."""
    ceiling = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** max(0, attempts - 1))
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


def retry_later(
    conn: Connection, item: WorkItem, error: str, status: int | None, retry_after: float | None, now: datetime
) -> bool:
    """Schedule another attempt; False (and the item failed) once MAX_ATTEMPTS are used."""
    attempts = item.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        fail(conn, item, error, status, attempts, now)
        return False
    conn.execute(
        update(_O)
        .where(_this(item))
        .values(
            attempts=attempts,
            next_attempt=now + timedelta(seconds=backoff_delay(attempts, retry_after)),
            last_status=status,
            last_error=error[:300],
        )
    )
    return True


def fail(conn: Connection, item: WorkItem, error: str, status: int | None, attempts: int, now: datetime) -> None:
    conn.execute(
        update(_O)
        .where(_this(item))
        .values(state="failed", attempts=attempts, last_status=status, last_error=error[:300], finished=now)
    )


@dataclass(frozen=True)
class QueueStats:
    pending: int
    failed: int
    last_error: str | None  # of an item still pending or failed: None once every push got through


def stats(conn: Connection, target_id: int) -> QueueStats:
    pending = conn.execute(
        select(func.count()).where(_O.c.target_id == target_id, _O.c.state == "pending")
    ).scalar_one()
    failed = conn.execute(select(func.count()).where(_O.c.target_id == target_id, _O.c.state == "failed")).scalar_one()
    # The error that stands: of an item still retrying or given up. A push that got through after retries keeps
    # its error as history, but the target's "last error" beside "0 failed, 0 queued" read as a current fault.
    last = conn.execute(
        select(_O.c.last_error)
        .where(_O.c.target_id == target_id, _O.c.state.in_(("pending", "failed")), _O.c.last_error.is_not(None))
        .order_by(_O.c.seq.desc())
        .limit(1)
    ).scalar()
    return QueueStats(pending, failed, last)
