"""Reading the audit trail for people: filtered, newest first, a page at a time, and counts over time.

Pages are keyed on ``seq`` (the primary key), so the millionth entry costs what the first does. Time filters are
turned into a seq range first, found by bisecting on seq, then the time test itself keeps the answer exact. The
trail is written in time order only up to a bound: a request entry carries the time it was answered and is written
later, in a batch (decision 0034). No entry is earlier than one written before it by more than
``lateness.margin``, so the bisection looks that much before ``since`` and after ``until``, and misses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, and_, exists, func, or_, select, true

from app.audit import lateness
from app.audit.tables import AuditEvent
from app.audit.trail import READ_SUBJECTS, StoredEvent, _stored, iso_utc

_A = AuditEvent.__table__
LIST_READ_KIND = "scim.request"  # the entries that may name the people a list read returned


@dataclass(frozen=True)
class EventFilter:
    kind_prefix: str | None = None  # "scim.", "policy.applied"…
    actor: str | None = None  # exact, e.g. "token:okta-prod"
    outcome: str | None = None  # success | failure
    subject: str | None = None  # the pseudonym as shown in the trail
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.kind_prefix:
            conditions.append(_A.c.kind.startswith(self.kind_prefix, autoescape=True))
        if self.actor:
            conditions.append(_A.c.actor == self.actor)
        if self.outcome:
            conditions.append(_A.c.outcome == self.outcome)
        if self.subject:
            conditions.append(or_(_A.c.subject == self.subject, _returned(self.subject)))
        return conditions


def _returned(pseudonym: str) -> ColumnElement[bool]:
    """A list read that returned the subject (``read_subjects``, app/audit/trail.py): it read the person as much as a
    read by id does. ``instr`` passes over the entries whose text does not hold the pseudonym at all before any
    JSON is parsed; ``json_each`` then checks it is one of the subjects returned, not some other detail."""
    returned = func.json_each(_A.c.details, f"$.{READ_SUBJECTS}").table_valued("value")
    listed = exists(select(returned.c.value).where(returned.c.value == pseudonym))
    return and_(_A.c.kind == LIST_READ_KIND, func.instr(_A.c.details, pseudonym) > 0, listed)


def _first_seq_at_or_after(conn: Connection, moment: datetime) -> int:
    """Bisect on seq (~20 primary-key lookups for 1,000,000): a seq whose entry is timed at or after ``moment``
    while the entry before it is not. With times out of order by at most ``lateness.margin``, every entry before
    the seq found for ``moment - margin`` is timed before ``moment`` (see _time_bounds)."""
    target = iso_utc(moment)
    first, last = conn.execute(select(func.min(_A.c.seq), func.max(_A.c.seq))).one()
    low, high = int(first or 1), int(last or 0) + 1  # a pruned trail starts after 1: no entry below to bisect on
    while low < high:
        middle = (low + high) // 2
        at = conn.execute(select(_A.c.at).where(_A.c.seq == middle)).scalar()
        if at is None or at >= target:
            high = middle
        else:
            low = middle + 1
    return low


def _time_bounds(conn: Connection, where: EventFilter) -> list[ColumnElement[bool]]:
    """The seq range narrows the search to an index range; the time test itself keeps the answer exact.

    Why the margin suffices: the bisection for ``since - margin`` stops at a seq p whose predecessor is timed
    before ``since - margin``. An entry before that predecessor timed at or after ``since`` would make the
    predecessor earlier than an entry written before it by more than the margin, which the bound rules out; the
    same holds after ``until + margin``."""
    if not (where.since or where.until):
        return []
    bounds: list[ColumnElement[bool]] = []
    margin = lateness.margin(conn)
    if where.since:
        bounds += [_A.c.seq >= _first_seq_at_or_after(conn, where.since - margin), _A.c.at >= iso_utc(where.since)]
    if where.until:
        bounds += [_A.c.seq < _first_seq_at_or_after(conn, where.until + margin), _A.c.at < iso_utc(where.until)]
    return bounds


def page(conn: Connection, where: EventFilter, before_seq: int | None = None, limit: int = 200) -> list[StoredEvent]:
    """Up to ``limit`` matching events older than ``before_seq`` (None: the newest), newest first."""
    conditions = where.conditions() + _time_bounds(conn, where)
    if before_seq is not None:
        conditions.append(_A.c.seq < before_seq)
    statement = select(_A).where(and_(true(), *conditions)).order_by(_A.c.seq.desc()).limit(limit)
    return [_stored(row) for row in conn.execute(statement)]


def matching_seqs(conn: Connection, where: EventFilter) -> list[int]:
    """The seq of every matching event, oldest first (the primary key only: no row is read or parsed)."""
    conditions = where.conditions() + _time_bounds(conn, where)
    statement = select(_A.c.seq).where(and_(true(), *conditions)).order_by(_A.c.seq)
    return [row[0] for row in conn.execute(statement)]


def count(conn: Connection, where: EventFilter) -> int:
    conditions = where.conditions() + _time_bounds(conn, where)
    return int(conn.execute(select(func.count()).select_from(_A).where(and_(true(), *conditions))).scalar_one())


def total(conn: Connection) -> int:
    """Entries in the trail (seq has no gaps in an intact trail, so the first and the last seq answer without a
    scan; a pruned trail starts after 1, decision 0055)."""
    first, last = conn.execute(select(func.min(_A.c.seq), func.max(_A.c.seq))).one()
    return int(last) - int(first) + 1 if last is not None else 0


def histogram(conn: Connection, where: EventFilter, start: datetime, end: datetime, buckets: int) -> list[int]:
    """Event counts in ``buckets`` equal slices of [start, end), for the timeline chart."""
    width = (end - start) / buckets
    bounded = EventFilter(**{**where.__dict__, "since": start, "until": end})
    slot = func.substr(_A.c.at, 1, 19)  # seconds precision is plenty for a chart
    counts = [0] * buckets
    rows = conn.execute(
        select(slot.label("second"), func.count())
        .where(and_(true(), *bounded.conditions(), *_time_bounds(conn, bounded)))
        .group_by(slot)
    ).all()
    for second, n in rows:
        moment = datetime.fromisoformat(second).replace(tzinfo=UTC)
        index = min(buckets - 1, max(0, int((moment - start) / width))) if width > timedelta(0) else 0
        counts[index] += n
    return counts


def kinds(conn: Connection) -> list[str]:
    return [row[0] for row in conn.execute(select(_A.c.kind).distinct().order_by(_A.c.kind))]


def actors(conn: Connection) -> list[str]:
    return [row[0] for row in conn.execute(select(_A.c.actor).distinct().order_by(_A.c.actor))]
