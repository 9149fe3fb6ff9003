"""Deadline alerts: 7 days and 1 day before a request's deadline, and when it has passed.

Each is an ``alert.raised`` entry on the audit trail (rule ``dsr_deadline``: request id, due date, days left; no
personal data), so it is verified, exported and forwarded to the SIEM like the anomaly alerts. Each alert is
raised once per deadline (an extension gives the new deadline its own alerts); after a pause only the most
urgent one still due is raised, not a late burst of stale warnings. A request with a right refused is held to the
one-month date whatever its extension (Art. 12(4)), and its alerts say so; a request recorded as not a GDPR request
raises none (it has no Art. 12(3) deadline). A request whose clock stands still while
the requester's identity information is awaited (Art. 12(6)) raises none; its due date moves when the wait ends,
and the new date gets its own alerts. A periodic job runs the check; tests give
it a fake clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import update

from app.audit.trail import Event, append, iso_utc
from app.core.periodic import PeriodicJob
from app.core.wording import counted
from app.dsr import deadline
from app.dsr.tables import DsrRequest
from app.dsr.waiting import waiting
from app.siem.alerts import ACTOR, KIND
from app.store.vault import Vault

RULE = "dsr_deadline"
_Q = DsrRequest.__table__
# (marker, raised when days left are at most this): most urgent first
LEVELS = (("passed", -1), ("1d", 1), ("7d", deadline.SOON_DAYS))
DEFAULT_INTERVAL_SECONDS = 3600.0


@dataclass(frozen=True)
class DeadlineAlert:
    request_id: str
    marker: str
    due: str
    days_left: int
    seq: int


def _level(left: int) -> int | None:
    """Index into LEVELS of the most urgent level reached, or None."""
    return next((i for i, (_m, limit) in enumerate(LEVELS) if left <= limit), None)


def _summary(request_id: str, due: str, left: int, refusal: bool) -> str:
    what = f"the refusal is due {due} (Art. 12(4): one month from receipt, whatever the extension)" if refusal else ""
    if left < 0:
        passed = what.replace("is due", "was due") if refusal else f"the deadline {due} has passed"
        return f"data subject request {request_id}: {passed} ({counted(-left, 'day', grouped=False)} overdue)"
    days = counted(left, "day", grouped=False)
    return f"data subject request {request_id}: {days} left, " + (what or f"due {due}")


def check_deadlines(vault: Vault, now: datetime | None = None) -> list[DeadlineAlert]:
    """Raise the alerts due at ``now``; returns them. One transaction: the alerts and their markers."""
    moment = now or datetime.now(UTC)
    raised = []
    with vault.write_transaction() as conn:
        for row in waiting(conn):  # a paused clock and a request that is not a GDPR request: no alert
            due = row.due
            left = deadline.days_left(due, row.zone, moment)
            level = _level(left)
            if level is None:
                continue
            sent = set(row.alerts.split())
            stamp = due.isoformat()
            if any(f"{marker}:{stamp}" in sent for marker, _l in LEVELS[: level + 1]):
                continue  # this one, or a more urgent one, was raised for this deadline
            marker, limit = LEVELS[level]
            details = {
                "rule": RULE, "threshold": max(limit, 0), "observed": left, "window_minutes": 0,
                "window_start": iso_utc(moment), "window_end": iso_utc(moment), "trigger_seq": 0,
                "summary": _summary(row.id, stamp, left, row.refusal), "request": row.id, "due": stamp,
                "marker": marker,
            }  # fmt: skip
            if row.refusal:
                details["deadline"] = "refusal"  # Art. 12(4)
            stored = append(conn, Event(KIND, ACTOR, "success", details=details, at=moment))
            covered = {f"{m}:{stamp}" for m, _l in LEVELS[level:]}  # the less urgent ones are moot now
            conn.execute(update(_Q).where(_Q.c.id == row.id).values(alerts=" ".join(sorted(sent | covered))))
            raised.append(DeadlineAlert(row.id, marker, stamp, left, stored.seq))
    return raised


class DeadlineAlertJob(PeriodicJob):
    """Checks the deadlines shortly after start and then hourly (a day boundary is never more than an hour late)."""

    def __init__(
        self,
        vault: Vault,
        interval: float = DEFAULT_INTERVAL_SECONDS,
        first_delay: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__("dsr-deadlines", lambda: check_deadlines(vault, clock()), interval, first_delay,
                         ready=lambda: vault.is_open)  # fmt: skip
