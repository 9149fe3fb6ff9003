"""Persisted step transitions: creation from the target links, claiming due work, recording each attempt,
operator attestation and retry, and closing a request once every step is terminal.

Every transition is a row update in the vault, so a crash resumes where it stopped: a step claimed by a worker
that died is due again once its lease runs out, and a step whose DELETE was accepted only re-verifies (no
second DELETE); one whose DELETE has no recorded answer reads first (``delete_unconfirmed``). Succeeded steps
are never picked up again.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, exists, func, insert, or_, select, update

from app.audit.trail import Event, append, append_many
from app.core.utc import as_utc
from app.erasure import hygiene
from app.erasure.local import LocalSubject
from app.erasure.model import (
    ABSENT,
    ATTESTED,
    OPERATOR_CAN_ATTEST,
    RESOLVED,
    RETRYABLE_BY_OPERATOR,
    TERMINAL,
    VERIFIED,
    State,
)
from app.erasure.tables import ErasureExchange, ErasureRequest, ErasureStep, ErasureSubject
from app.feed import links
from app.feed.outbox import backoff_delay
from app.feed.tables import TargetLink
from app.targets.config import TargetConfig

_S = ErasureStep.__table__
_X = ErasureExchange.__table__
_Q = ErasureRequest.__table__
_SUB = ErasureSubject.__table__
_L = TargetLink.__table__
ACTOR = "system:erasure"
MAX_ATTEMPTS = 10
LEASE_SECONDS = 120.0
# A target with a push still queued for the subject may be creating it right now: wait for that push to land
# (or not) before concluding the target never held the subject. The wait ends as soon as the push's link is
# recorded (``_landed``); only a push that never lands waits the whole grace.
IN_FLIGHT_GRACE_SECONDS = 20.0
_MANUAL_REASON = "manual target: erase the account there, then attest"
_OPEN_STATES = [s.value for s in State if s not in TERMINAL]


utc = as_utc  # SQLite hands back naive datetimes; the columns hold UTC (app/core/utc.py)


# -- creation ----------------------------------------------------------------------------------------------
def create(
    conn: Connection,
    request_id: str,
    subject_no: int,
    subject: LocalSubject,
    targets: list[TargetConfig],
    now: datetime,
) -> list[State]:
    """One step per target for this subject, in the caller's transaction."""
    rows, states = [], []
    for target in targets:
        link = subject.held_at.get(target.id)
        state, reason, next_attempt = State.QUEUED, None, now
        if link is None and target.id in subject.pending_at:
            reason = "waiting for a push that may be in flight"
            next_attempt = now + timedelta(seconds=IN_FLIGHT_GRACE_SECONDS)
        elif link is None:
            state, reason = State.SKIPPED, "the target never received this subject"
        elif target.erase_mode == "manual":
            state, reason = State.WAITING_MANUAL, _MANUAL_REASON
        resolved = state in RESOLVED
        closed_at = now if state in TERMINAL else None  # skipped on creation: it closed now
        rows.append(
            {
                "request_id": request_id,
                "subject_no": subject_no,
                "target_id": target.id,
                "target_name": target.name,
                "recipient_id": target.recipient_id,
                "erase_mode": target.erase_mode,
                "resource_type": subject.resource_type,
                "resource_id": None if resolved else subject.resource_id,
                "remote_id": None if resolved or link is None else link.remote_id,
                "state": state.value,
                "reason": reason,
                "attempts": 0,
                "attempts_total": 0,
                "next_attempt": next_attempt,
                "requested": now,
                "closed_at": closed_at,
            }
        )
        states.append(state)
    if rows:
        conn.execute(insert(_S), rows)
    return states


RECIPIENT_MODE = "recipient"  # erase_mode of a step for a recipient with no SCIM target
RECIPIENT_PREFIX = "recipient:"  # its target_name: target names cannot hold ':', so it never clashes


def recipient_step_name(recipient_id: str) -> str:
    return (RECIPIENT_PREFIX + recipient_id)[:64]


def create_for_recipients(
    conn: Connection,
    request_id: str,
    subject_no: int,
    subject: LocalSubject,
    recipients: list[tuple[str, str]],
    now: datetime,
    removed: dict[str, str] | None = None,
) -> list[State]:
    """Art. 19: a recipient that received the subject's data but has no SCIM target is told by a person, who
    attests who was told, when and how (``erase attest --target recipient:ID``). ``recipients`` are (id, name);
    ``removed`` maps a recipient whose target was removed while holding the subject to that target's name (the
    step says so: the operator is to tell an application Custos no longer reaches)."""
    removed = removed or {}
    rows = [
        {
            "request_id": request_id,
            "subject_no": subject_no,
            "target_id": None,
            "target_name": recipient_step_name(recipient_id),
            "recipient_id": recipient_id,
            "erase_mode": RECIPIENT_MODE,
            "resource_type": subject.resource_type,
            "resource_id": None,
            "remote_id": None,
            "state": State.WAITING_MANUAL.value,
            "reason": _recipient_reason(name, removed.get(recipient_id)),
            "attempts": 0,
            "attempts_total": 0,
            "next_attempt": now,
            "requested": now,
            "closed_at": None,
        }
        for recipient_id, name in recipients
    ]
    if rows:
        conn.execute(insert(_S), rows)
    return [State.WAITING_MANUAL] * len(rows)


def _recipient_reason(name: str, removed_target: str | None) -> str:
    if removed_target is None:
        return f"no SCIM target: tell {name[:200]} to erase the person, then attest who, when and how"
    return (
        f"target {removed_target} was removed while it held this person's account: tell {name[:200]} to erase "
        "the person, then attest who, when and how"
    )


# -- claiming ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepWork:
    id: int
    request_id: str
    subject_no: int
    pseudonym: str
    target_id: int
    target_name: str
    erase_mode: str
    resource_type: str
    remote_id: str
    attempts: int  # since the step was last queued, including this one: what the limit and the backoff count
    attempts_total: int  # every attempt at the target, including this one: what the receipt and the trail state
    deleted_status: int | None
    # An earlier DELETE may have reached the target without its answer being recorded (its worker was killed, or
    # the connection dropped): the attempt reads first and sends no second DELETE to a target that already deleted.
    delete_unconfirmed: bool = False


_DUE = (
    select(_S, _SUB.c.pseudonym)
    .join(_SUB, and_(_SUB.c.request_id == _S.c.request_id, _SUB.c.subject_no == _S.c.subject_no))
    .order_by(_S.c.next_attempt, _S.c.id)
)


_LEASE = (
    update(_S)
    .where(_S.c.id == bindparam("sid"))
    .values(
        state=State.IN_PROGRESS.value,
        attempts=bindparam("tries"),
        attempts_total=_S.c.attempts_total + 1,
        remote_id=bindparam("remote"),
        lease_until=bindparam("until"),
        first_attempt=func.coalesce(_S.c.first_attempt, bindparam("now")),
        last_attempt=bindparam("now"),
    )
)


_SET_MANUAL = (
    update(_S)
    .where(_S.c.id == bindparam("sid"))
    .values(state=State.WAITING_MANUAL.value, remote_id=bindparam("remote"), reason=_MANUAL_REASON)
)


def _landed(now: datetime) -> Any:
    """A step created while a push was queued (no remote id yet), not due before the grace period ends, whose push
    has landed meanwhile: its link is recorded, so it is due now. Without this an erasure requested in the moment
    between a target creating the account and the dispatcher recording that push waited the whole 20 s, though the
    link was there milliseconds later (the tombstone test timed out at 20 s on a loaded machine). ``next_attempt >
    now`` keeps it to the waiting steps (an index range): the due ones are found anyway."""
    return and_(
        _S.c.state == State.QUEUED.value,
        _S.c.next_attempt > now,
        _S.c.remote_id.is_(None),
        exists().where(_L.c.target_id == _S.c.target_id, _L.c.resource_id == _S.c.resource_id),
    )


_ANY_CLAIMABLE = (
    select(_S.c.id).where(_S.c.state.in_([State.QUEUED.value, State.FAILED.value, State.IN_PROGRESS.value])).limit(1)
)


def shift_waiting(conn: Connection, by: timedelta, now: datetime) -> int:
    """Move the times of steps still waiting (a retry, a lease) earlier by ``by``: the wall clock went back that far
    (app/core/clock_step.py). Row by row: SQLite stores the times as text, so no date arithmetic in SQL."""
    moved = 0
    for column, states in ((_S.c.next_attempt, (State.QUEUED, State.FAILED)), (_S.c.lease_until, (State.IN_PROGRESS,))):
        rows = conn.execute(select(_S.c.id, column).where(_S.c.state.in_([s.value for s in states]), column > now))
        for step_id, moment in rows.all():
            conn.execute(update(_S).where(_S.c.id == step_id).values({column.key: moment - by}))
            moved += 1
    return moved


def any_claimable(conn: Connection) -> bool:
    """Whether ``claim_due`` could ever find a step (now or later): a read, so that an idle worker need not take
    the one writer to find out there is nothing to do."""
    return conn.execute(_ANY_CLAIMABLE).first() is not None


def claim_due(conn: Connection, now: datetime, capacity: dict[int, int], exclude: Iterable[int] = ()) -> list[StepWork]:
    """Lease the steps whose time has come, at most ``capacity[target id]`` per target, in the caller's write
    transaction; ``exclude`` are steps this worker is still running."""
    due = or_(
        and_(_S.c.state.in_([State.QUEUED.value, State.FAILED.value]), _S.c.next_attempt <= now),
        and_(_S.c.state == State.IN_PROGRESS.value, _S.c.lease_until <= now),  # its worker died
        _landed(now),  # waiting for a push that has landed since
    )
    skip = set(exclude)
    claimed: list[StepWork] = []
    for target_id, free in capacity.items():
        if free <= 0:
            continue
        statement = _DUE.where(due, _S.c.target_id == target_id)
        if skip:
            statement = statement.where(_S.c.id.not_in(skip))
        for row in conn.execute(statement.limit(free)).all():
            remote_id = row.remote_id if row.remote_id is not None else _await_push(conn, row, now)
            if remote_id is None:
                continue
            if row.erase_mode == "manual":  # its in-flight push landed: now it waits for a person, not a worker
                conn.execute(_SET_MANUAL, {"sid": row.id, "remote": remote_id})
                continue
            claimed.append(_work(row, remote_id, _delete_unconfirmed(conn, row)))
    if claimed:  # one executemany: statements, not rows, are what cost here
        until = now + timedelta(seconds=LEASE_SECONDS)
        leases = [
            {"sid": w.id, "tries": w.attempts, "remote": w.remote_id, "until": until, "now": now} for w in claimed
        ]
        conn.execute(_LEASE, leases)
    return claimed


# An exchange's note when the request never left (no connection): it cannot have deleted anything.
NOT_SENT = "not sent: "
_LAST_EXCHANGE = (
    select(_X.c.method, _X.c.status, _X.c.note).where(_X.c.step_id == bindparam("sid")).order_by(_X.c.id.desc())
)


def _delete_unconfirmed(conn: Connection, row: Any) -> bool:
    if row.deleted_status is not None or row.attempts == 0:
        return False
    if row.state == State.IN_PROGRESS.value:  # leased by a worker that died: what it sent was never recorded
        return True
    last = conn.execute(_LAST_EXCHANGE.limit(1), {"sid": row.id}).first()
    # Only a DELETE refused with a 4xx (429 included: not processed), or one that never left (no connection), is
    # known not to have deleted. After anything else the earlier DELETE's outcome is unknown: no answer, a 5xx (a
    # gateway may time out after the deletion), a failed read first, no exchange at all. Reading first after a
    # refused connection made a target that came back without the account "erased (verified)", with a reason
    # calling the DELETE's outcome unknown, though no DELETE had ever reached it.
    if last is None or last.method != "DELETE":
        return True
    if last.status is None:
        return not str(last.note or "").startswith(NOT_SENT)
    return bool(last.status >= 500)


def _work(row: Any, remote_id: str, delete_unconfirmed: bool = False) -> StepWork:
    return StepWork(
        id=row.id,
        request_id=row.request_id,
        subject_no=row.subject_no,
        pseudonym=row.pseudonym,
        target_id=row.target_id,
        target_name=row.target_name,
        erase_mode=row.erase_mode,
        resource_type=row.resource_type,
        remote_id=remote_id,
        attempts=row.attempts + 1,
        attempts_total=row.attempts_total + 1,
        deleted_status=row.deleted_status,
        delete_unconfirmed=delete_unconfirmed,
    )


def _await_push(conn: Connection, row: Any, now: datetime) -> str | None:
    """A step created while a push was queued: the link it left, or skip once the grace period is over."""
    link = links.get(conn, row.target_id, row.resource_id)
    if link is not None:
        return link.remote_id
    requested = utc(row.requested)
    assert requested is not None
    wake = requested + timedelta(seconds=IN_FLIGHT_GRACE_SECONDS)
    if now < wake:
        conn.execute(update(_S).where(_S.c.id == row.id).values(next_attempt=wake))
        return None
    _resolve(conn, row.id, State.SKIPPED, "the target never received this subject", now)
    details = {"request": row.request_id, "target": row.target_name, "state": "skipped", "pseudonym": row.pseudonym}
    append(conn, Event("erasure.target.skipped", ACTOR, details=details))
    return None


# -- recording an attempt --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Exchange:
    at: datetime
    method: str
    status: int | None
    sha256: str | None
    note: str | None = None


@dataclass
class AttemptResult:
    state: State  # SUCCEEDED, FAILED (retry), ACTION_REQUIRED, VERIFICATION_FAILED, DEPROVISIONED_NOT_ERASED
    reason: str | None = None
    exchanges: list[Exchange] = field(default_factory=list)
    deleted_status: int | None = None
    retry_after: float | None = None
    status: int | None = None
    method: str | None = None  # how a success was confirmed (app.erasure.model): "verified" unless it says


_SET_DELETED = update(_S).where(_S.c.id == bindparam("sid")).values(deleted_status=bindparam("deleted"))
_SET_FAILED = (
    update(_S)
    .where(_S.c.id == bindparam("sid"))
    .values(state=State.FAILED.value, reason=bindparam("why"), next_attempt=bindparam("retry_at"), lease_until=None)
)
_SET_TERMINAL = (
    update(_S)
    .where(_S.c.id == bindparam("sid"))
    .values(state=bindparam("to"), reason=bindparam("why"), lease_until=None, closed_at=bindparam("closed"))
)
_SET_RESOLVED = (
    update(_S)
    .where(_S.c.id == bindparam("sid"))
    .values(
        state=bindparam("to"),
        reason=bindparam("why"),
        confirmed=bindparam("at"),
        closed_at=bindparam("closed"),
        method=bindparam("how"),
        resource_id=None,
        remote_id=None,
        lease_until=None,
    )
)
_DROP_LINK = delete(_L).where(_L.c.target_id == bindparam("tid"), _L.c.resource_id == bindparam("rid"))
_IDS_OF = select(_S.c.id, _S.c.target_id, _S.c.resource_id).where(_S.c.id.in_(bindparam("sids", expanding=True)))


def record(
    conn: Connection, batch: list[tuple[StepWork, AttemptResult]], now: datetime, max_attempts: int
) -> list[State]:
    """Apply attempts' outcomes in the caller's transaction; returns the state each step is now in.

    A few executemany statements for the whole batch: with thousands of steps, the number of statements (and
    the GIL hand-overs around each) is what costs, not the rows.
    """
    exchanges = [
        {"step_id": work.id, "at": x.at, "method": x.method, "status": x.status, "sha256": x.sha256, "note": x.note}
        for work, result in batch
        for x in result.exchanges
    ]
    if exchanges:
        conn.execute(insert(_X), exchanges)
    deleted = [{"sid": w.id, "deleted": r.deleted_status} for w, r in batch if r.deleted_status is not None]
    if deleted:
        conn.execute(_SET_DELETED, deleted)
    failed: list[dict[str, Any]] = []
    terminal: list[dict[str, Any]] = []
    resolved: list[tuple[int, State, str | None, str | None]] = []
    states: list[State] = []
    events: list[Event] = []
    for work, result in batch:
        state, reason = result.state, (result.reason or "")[:300] or None
        if state == State.FAILED and work.attempts < max_attempts:
            retry_at = now + timedelta(seconds=backoff_delay(work.attempts, result.retry_after))
            failed.append({"sid": work.id, "why": reason, "retry_at": retry_at})
            states.append(state)
            continue
        if state == State.FAILED:
            state, reason = State.ACTION_REQUIRED, f"{_gave_up(work)}: {reason}"[:300]
        if state in RESOLVED:
            resolved.append((work.id, state, reason, _method(state, result)))
        else:  # ACTION_REQUIRED, VERIFICATION_FAILED: terminal, ids kept so an operator can retry or attest
            terminal.append({"sid": work.id, "to": state.value, "why": reason, "closed": now})
        states.append(state)
        events.append(_event(work, result, state))
    if failed:
        conn.execute(_SET_FAILED, failed)
    if terminal:
        conn.execute(_SET_TERMINAL, terminal)
    _resolve_many(conn, resolved, now)
    if events:
        append_many(conn, events)
    return states


def _gave_up(work: StepWork) -> str:
    """Why the worker stopped: the limit counts the attempts since the last queueing, and after an operator's
    retry the words say so, with the total, rather than pass the limit off as every attempt made."""
    if work.attempts_total == work.attempts:
        return f"gave up after {work.attempts} attempts"
    return f"gave up after {work.attempts} attempts since the operator's retry ({work.attempts_total} in all)"


def _method(state: State, result: AttemptResult) -> str | None:
    if state != State.SUCCEEDED:
        return None
    return result.method or VERIFIED


def _event(work: StepWork, result: AttemptResult, state: State) -> Event:
    details = {
        "request": work.request_id,
        "target": work.target_name,
        "state": state.value,
        "attempts": work.attempts_total,  # every attempt, also those before an operator's retry
    }
    if result.status is not None:
        details["status"] = result.status
    if _method(state, result) == ABSENT:
        details["method"] = ABSENT  # the target no longer held the account: no erasure of Custos's there
    # The subject's key is shredded: the trail names it by the pseudonym in details (a subject given to the trail
    # would be keyed afresh, and its SCIM id kept again).
    details["pseudonym"] = work.pseudonym
    outcome = "success" if state in RESOLVED else "failure"
    return Event(f"erasure.target.{state.value}", ACTOR, outcome, details=details)


def _resolve_many(conn: Connection, steps: list[tuple[int, State, str | None, str | None]], now: datetime) -> None:
    """Steps that need nothing more from their target: forget the subject's ids there, and the target links.

    ``steps`` are (step id, state, reason, method); ``confirmed`` is set for succeeded ones.
    """
    if not steps:
        return
    rows = conn.execute(_IDS_OF, {"sids": [step_id for step_id, *_ in steps]}).all()
    drops = [{"tid": r.target_id, "rid": r.resource_id} for r in rows if r.target_id and r.resource_id]
    if drops:
        conn.execute(_DROP_LINK, drops)
    updates = [
        {
            "sid": sid,
            "to": state.value,
            "why": reason,
            "at": now if state == State.SUCCEEDED else None,
            "closed": now,
            "how": method,
        }
        for sid, state, reason, method in steps
    ]
    conn.execute(_SET_RESOLVED, updates)


def _resolve(
    conn: Connection, step_id: int, state: State, reason: str | None, now: datetime, method: str | None = None
) -> None:
    _resolve_many(conn, [(step_id, state, (reason or "")[:300] or None, method)], now)


# -- operator actions ------------------------------------------------------------------------------------
def attest(conn: Connection, request_id: str, target_name: str, operator: str, note: str, now: datetime) -> int:
    """An operator confirms the erasure at a target by hand: kept as evidence (who, when, note)."""
    rows = conn.execute(
        select(_S.c.id, _S.c.subject_no).where(
            _S.c.request_id == request_id,
            _S.c.target_name == target_name,
            _S.c.state.in_([s.value for s in OPERATOR_CAN_ATTEST]),
        )
    ).all()
    for row in rows:
        _resolve(conn, row.id, State.SUCCEEDED, "attested by an operator", now, method=ATTESTED)
        conn.execute(
            update(_S).where(_S.c.id == row.id).values(attested_by=operator, attested_at=now, attestation_note=note)
        )
    if rows:
        details = {"request": request_id, "target": target_name, "steps": len(rows)}
        append(conn, Event("erasure.attested", f"operator:{operator}", details=details))
    return len(rows)


def retry(conn: Connection, request_id: str, target_name: str | None, operator: str, now: datetime) -> int:
    """Queue again the steps an operator has fixed the cause of (rejected, out of attempts, not verified).

    The limit starts afresh (``attempts`` 0); ``attempts_total`` is left alone, so the receipt still counts the
    attempts made before the retry. Who asked is on the trail with the change (``erasure.retried``): an erasure
    that went on after an operator stepped in must say so to whoever reads its history."""
    where = [_S.c.request_id == request_id, _S.c.state.in_([s.value for s in RETRYABLE_BY_OPERATOR])]
    if target_name:
        where.append(_S.c.target_name == target_name)
    changed = conn.execute(
        update(_S)
        .where(*where)
        .values(
            state=State.QUEUED.value,
            attempts=0,
            next_attempt=now,
            deleted_status=None,
            reason="retried",
            closed_at=None,  # open again: it closes anew when it ends
        )
    ).rowcount
    if changed:
        conn.execute(update(_Q).where(_Q.c.id == request_id).values(state="open", closed=None))
        details = {"request": request_id, "target": target_name, "steps": int(changed)}
        append(conn, Event("erasure.retried", f"operator:{operator}", details=details))
    return int(changed)


# -- closing ------------------------------------------------------------------------------------------------
def close_if_done(conn: Connection, request_ids: Iterable[str], now: datetime) -> list[str]:
    """Close each request whose every step is terminal and whose local erasure is recorded."""
    closed = []
    for request_id in set(request_ids):
        request = conn.execute(select(_Q.c.state, _Q.c.local_facts).where(_Q.c.id == request_id)).first()
        if request is None or request.state != "open":
            continue
        if not hygiene.complete(json.loads(request.local_facts).get("storage")):
            continue  # the local erasure has not reached the file yet (the worker scrubs again)
        pending = conn.execute(
            select(func.count()).where(_S.c.request_id == request_id, _S.c.state.in_(_OPEN_STATES))
        ).scalar_one()
        if pending:
            continue
        by_state = select(_S.c.state, func.count()).where(_S.c.request_id == request_id).group_by(_S.c.state)
        counts: Counter[str] = Counter({state: count for state, count in conn.execute(by_state)})
        conn.execute(update(_Q).where(_Q.c.id == request_id).values(state="closed", closed=now))
        complete = all(State(state) in (State.SUCCEEDED, State.SKIPPED) for state in counts)
        details = {"request": request_id, "steps": dict(counts), "complete": complete}
        append(conn, Event("erasure.closed", ACTOR, "success" if complete else "failure", details=details))
        closed.append(request_id)
    return closed


def automatic_work_left(conn: Connection, request_ids: Iterable[str]) -> bool:
    """Whether any step of these requests still waits for the worker (not for an operator)."""
    automatic = [State.QUEUED.value, State.IN_PROGRESS.value, State.FAILED.value]
    count = conn.execute(
        select(func.count()).where(_S.c.request_id.in_(list(request_ids)), _S.c.state.in_(automatic))
    ).scalar_one()
    return bool(count)
