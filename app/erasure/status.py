"""Reading erasure requests for people: one line per target, the subject never named (counts only)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from app.core.errors import ConfigError
from app.core.utc import utc_text
from app.core.wording import counted
from app.erasure.model import State, label
from app.erasure.source import HELD, HELD_AGAIN, LABELS, STEP_TEXT
from app.erasure.source import of_request as source_states
from app.erasure.steps import utc
from app.erasure.tables import ErasureRequest, ErasureStep

_Q = ErasureRequest.__table__
_S = ErasureStep.__table__


ATTEST_SOURCE = "attest_source"  # the operator attests the step done at the identity provider


@dataclass(frozen=True)
class TargetLine:
    target: str
    state: str  # the step state when every subject is in it, else "mixed"
    detail: str
    # What the operator does next, in the register's terms (ATTEST_SOURCE): each front end names its own way to
    # do it (the CLI its command, the app its button), so the detail names none.
    next_step: str | None = None


@dataclass(frozen=True)
class RequestStatus:
    id: str
    created: datetime
    operator: str
    ground: str
    origin: str
    state: str
    closed: datetime | None
    subjects: int
    local: dict[str, Any]
    targets: list[TargetLine]
    source: TargetLine | None = None  # does the identity provider still hold the subjects? (not a step)

    @property
    def complete(self) -> bool:
        return self.state == "closed" and all(line.state in ("succeeded", "skipped") for line in self.targets)


def request_status(conn: Connection, request_id: str) -> RequestStatus:
    row = conn.execute(select(_Q).where(_Q.c.id == request_id)).first()
    if row is None:
        raise ConfigError(f"No erasure request {request_id!r}.")
    by_target: dict[str, list[Any]] = {}
    for step in conn.execute(select(_S).where(_S.c.request_id == request_id).order_by(_S.c.target_name, _S.c.id)):
        by_target.setdefault(step.target_name, []).append(step)
    local = json.loads(row.local_facts)
    created = utc(row.created)
    sources = list(source_states(conn, request_id).values())
    assert created is not None
    return RequestStatus(
        row.id,
        created,
        row.operator,
        row.ground,
        row.origin,
        row.state,
        utc(row.closed),
        int(local.get("subjects", 0)),
        local,
        [_line(name, rows) for name, rows in by_target.items()],
        _source_line(sources),
    )


def _source_line(sources: list[dict[str, Any]]) -> TargetLine | None:
    if not sources:
        return None
    held = sum(1 for entry in sources if entry["still_held"])
    if held:
        total = f"{held} of {len(sources)} subjects " if len(sources) > 1 else ""
        again = any(entry["still_held"] and entry["outcome"] == HELD_AGAIN for entry in sources)
        label = HELD_AGAIN if again else LABELS[HELD]
        return TargetLine("source", "held", f"{total}{label}: {STEP_TEXT}", ATTEST_SOURCE)
    states = Counter(str(entry["state"]) for entry in sources)
    if len(states) == 1:
        entry = sources[0]
        text = str(entry["outcome"])
        if entry["attested_by"]:
            text += f" by {entry['attested_by']}"
        return TargetLine("source", str(entry["state"]), text)
    return TargetLine("source", "mixed", ", ".join(f"{state} {count}" for state, count in states.most_common()))


def _line(target: str, rows: list[Any]) -> TargetLine:
    states = Counter(row.state for row in rows)
    if len(states) == 1:
        first = rows[0]
        text = label(first.state, first.method)
        if first.attested_by:
            text += f" by {first.attested_by}"
        if first.reason and first.state != "succeeded":
            text += f": {first.reason}"
        if len(rows) > 1:
            text = f"{len(rows)} subjects, {text}"
        return TargetLine(target, first.state, text + _closed(rows))
    counts = ", ".join(f"{state} {count}" for state, count in states.most_common())
    return TargetLine(target, "mixed", counts)


def _closed(rows: list[Any]) -> str:
    """When the line's steps closed, as each step recorded it (the last of them); nothing while one is open or a
    step closed before closing times were kept: no other moment stands in for it."""
    moments = [utc(row.closed_at) for row in rows]
    if any(moment is None for moment in moments):
        return ""
    return f", closed {utc_text(max(m for m in moments if m is not None), seconds=True)}"


def local_line(status: RequestStatus) -> str:
    local, storage = status.local, status.local.get("storage", {})
    if not local.get("erased_at"):
        return "not erased yet"
    parts = [f"{counted(local.get('rows_deleted', 0), 'row')} deleted"]
    parts.append("WAL truncated" if storage.get("wal_truncated") else "WAL NOT truncated yet")
    parts.append("vacuumed" if storage.get("vacuumed") else "NOT vacuumed yet")
    parts.append(f"{counted(local.get('keys_shredded', 0), 'pseudonym key')} shredded")
    return ", ".join(parts)


def recent(conn: Connection, limit: int = 20) -> list[tuple[str, datetime, str, str, int]]:
    """(id, created, state, ground, steps) of the newest requests."""
    steps = select(_S.c.request_id, func.count().label("n")).group_by(_S.c.request_id).subquery()
    rows = conn.execute(
        select(_Q.c.id, _Q.c.created, _Q.c.state, _Q.c.ground, func.coalesce(steps.c.n, 0))
        .outerjoin(steps, steps.c.request_id == _Q.c.id)
        .order_by(_Q.c.created.desc())
        .limit(limit)
    ).all()
    return [(r[0], utc(r[1]), r[2], r[3], int(r[4])) for r in rows]


def report_lines(status: RequestStatus) -> list[TargetLine]:
    """Every line of a request in the order ``erase status`` prints them: the local mirror, each target and each
    recipient without a target (Art. 19 by hand), then the identity provider (the source)."""
    local = TargetLine("local", "erased" if status.local.get("erased_at") else "pending", local_line(status))
    return [local, *status.targets, *([status.source] if status.source is not None else [])]


def places_to_reach(conn: Connection, request_id: str) -> int:
    """How many targets and recipients the request's erasure had to reach (its steps; the identity provider, which
    is not a step, not counted)."""
    return int(conn.execute(select(func.count()).where(_S.c.request_id == request_id)).scalar_one())


def not_confirmed(conn: Connection, request_id: str, names: Mapping[str, str] | None = None) -> list[str]:
    """The targets and recipients of a request where its erasure is not (yet) confirmed: a step still open, or
    closed without erasing (deprovisioned only, verification failed, action required). What an answer to the
    person must not call erased.

    ``names`` (recipient id -> the policy's name for it) names each by the recipient the person is told about
    (the access export's, the Art. 30 record's), not by Custos' step name ("recipient:payroll", a target's short
    name): a letter to a person spoke the operator's vocabulary. A step whose recipient has no name keeps its own."""
    erased = (State.SUCCEEDED.value, State.SKIPPED.value)
    query = select(_S.c.target_name, _S.c.recipient_id).where(
        _S.c.request_id == request_id, _S.c.state.not_in(erased)
    )
    known = names or {}
    return sorted({known.get(str(recipient), str(step)) for step, recipient in conn.execute(query)})
