"""Request-level audit events, appended in batches off the request path.

Every authenticated SCIM request (reads too) goes on the trail. One durable transaction per request would halve
the read throughput, so requests put their event on a queue and a thread appends whatever is waiting in one
transaction every ``FLUSH_SECONDS``. Changes to the mirror are not recorded here: those events are written in
the same transaction as the change itself (app/scim/service.py).

One bad event never costs the others (issue 11 §1): each event is checked on its own before the batch is
written, one the trail refuses is dropped alone and counted, and if the batch still fails each event is tried
by itself. What was refused or lost is itself put on the trail (``audit.recorder.refused`` /
``audit.recorder.lost``: counts and event kinds only), where the alert rules see it.

With the runtime's group-commit writer given, a batch joins the next group transaction of the SCIM writes (one
commit, one fsync for both) instead of taking the one write connection for a transaction of its own.

Sources of periodic entries (the per-minute failed-authentication tally, app/scim/failures.py) are polled by the
same thread, so their entries are written even when no request arrives.

An event keeps the time it was given (a request: when it was answered, decision 0034), not the time its batch is
written; the chain keeps the order of writing. The recorder's clock (injected) times the events given without one
and measures each event's delay: delays over ``lateness.LATE_AFTER`` are put on the trail (``audit.recorder.late``),
so readers that find a time range by ``seq`` widen their margin to cover them (app/audit/lateness.py).
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from app.audit import lateness
from app.audit.trail import Event, append_many, check
from app.core.errors import VaultLocked
from app.store.vault import Vault

if TYPE_CHECKING:
    from app.store.group_commit import GroupCommitWriter

log = logging.getLogger(__name__)
FLUSH_SECONDS = 0.25
POLL_SECONDS = 1.0  # how often the periodic sources are asked for their entries when nothing else happens
MAX_BATCH = 2000
ACTOR = "system:audit-recorder"
REFUSED_KIND = "audit.recorder.refused"
LOST_KIND = "audit.recorder.lost"


class EventSource(Protocol):
    def due(self, *, everything: bool = False) -> list[Event]: ...


class AuditRecorder:
    def __init__(
        self,
        vault: Vault,
        sources: tuple[EventSource, ...] = (),
        writer: GroupCommitWriter | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._vault = vault
        self._clock = clock or (lambda: datetime.now(UTC))
        self._writer = writer
        self._sources = sources
        self._queue: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()  # set by flush: the batch being gathered is written without waiting
        self.recorded = 0
        self.refused: Counter[str] = Counter()  # since start, by event kind: for tests and the operator
        self._unreported_refused: Counter[str] = Counter()
        self._unreported_lost: Counter[str] = Counter()  # by reason

    def record(self, event: Event) -> None:
        self._queue.put(event)
        self.start()

    def start(self) -> None:
        """Run the writing thread (idempotent): record() does it, and the server at start for the sources."""
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="custos-audit-recorder", daemon=True)
                    self._thread.start()

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            batch: list[Event] = []
            try:
                first = self._queue.get(timeout=POLL_SECONDS)
            except queue.Empty:
                pass
            else:
                if first is None:
                    stopping = True
                else:
                    batch.append(first)
                    stopping = self._drain_into(batch, wait=FLUSH_SECONDS)
            batch.extend(self._periodic(everything=stopping))
            if batch or (self._unreported() and self._vault.is_open):
                self._write(batch)

    def _periodic(self, everything: bool) -> list[Event]:
        events: list[Event] = []
        for source in self._sources:
            try:
                events.extend(source.due(everything=everything))
            except Exception as exc:  # a source's fault must not stop the recorder
                log.error("audit source failed: %s", type(exc).__name__)
        return events

    def _drain_into(self, batch: list[Event], wait: float) -> bool:
        """Collect what arrives within ``wait`` seconds; True when a stop was requested.

        The thread sleeps through the window and then takes everything queued at once. Waiting on the queue
        instead woke it for every event as it arrived: under load, a thread switch (and a turn of the interpreter
        lock) per request, taken from the requests being served. ``flush`` cuts the window short.
        """
        self._wake.wait(wait)
        self._wake.clear()
        while len(batch) < MAX_BATCH:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return False
            if item is None:
                return True
            batch.append(item)
        return False

    def _write(self, batch: list[Event]) -> None:
        now = self._clock()
        accepted = self._timed([event for event in batch if self._acceptable(event)], now)
        report = self._timed(self._report(), now)
        try:
            self._append(report + accepted)
        except VaultLocked:
            self._lose(len(accepted), "vault_closed")
            self._restore(report)
            log.info("vault closed: %d request event(s) could not be recorded", len(accepted))
        except Exception as exc:  # the batch failed as a whole: try each event alone, so one cannot sink the rest
            log.error("could not record %d event(s) together: %s", len(accepted), type(exc).__name__)
            self._restore(report)
            self._one_by_one(accepted)
            self._write_report()

    def _timed(self, events: list[Event], now: datetime) -> list[Event]:
        """Each event with its own time (the recorder's clock for one given none), followed by an
        ``audit.recorder.late`` entry when some were written more than ``lateness.LATE_AFTER`` after their time."""
        timed = [event if event.at is not None else dataclasses.replace(event, at=now) for event in events]
        delays = [lateness.delay_seconds(e.at, now) for e in timed if isinstance(e.at, datetime)]  # else: refused
        late = lateness.late_details(delays)
        if late is not None:
            log.warning("%d audit event(s) written more than %s s after they happened", late["count"],
                        late["bound_seconds"])  # fmt: skip
            timed.append(Event(lateness.LATE_KIND, ACTOR, "success", details=late, at=now))
        return timed

    def _write_report(self) -> None:
        report = self._timed(self._report(), self._clock())
        try:
            self._append(report)
        except Exception as exc:  # kept for the next write
            log.error("could not record the recorder's own report: %s", type(exc).__name__)
            self._restore(report)

    def _acceptable(self, event: Event) -> bool:
        try:
            check(event)
        except (ValueError, TypeError):  # personal data, a reserved key, a value JSON cannot hold
            kind = event.kind[:64]
            self.refused[kind] += 1
            self._unreported_refused[kind] += 1
            log.error("audit event refused by the trail (kind %s)", kind)
            return False
        return True

    def _append(self, events: list[Event]) -> None:
        if not events:
            return
        if self._writer is not None:
            self._writer.run(lambda conn: append_many(conn, events))
        else:
            with self._vault.write_transaction() as conn:
                append_many(conn, events)  # one tail read and one INSERT for the whole batch
        self.recorded += len(events)

    def _one_by_one(self, events: list[Event]) -> None:
        for event in events:
            try:
                self._append([event])
            except VaultLocked:
                self._lose(1, "vault_closed")
            except Exception as exc:
                self._lose(1, "write_failed")
                log.error("could not record a %s event: %s", event.kind[:64], type(exc).__name__)

    def _lose(self, count: int, reason: str) -> None:
        if count:
            self._unreported_lost[reason] += count

    def _report(self) -> list[Event]:
        """Entries saying what was refused or lost since the last report (taken out; put back on failure)."""
        report: list[Event] = []
        if self._unreported_refused:
            refused, self._unreported_refused = self._unreported_refused, Counter()
            details = {"count": sum(refused.values()), "kinds": dict(sorted(refused.items())),
                       "reason": "the trail refused the details (personal data or a malformed entry)"}  # fmt: skip
            report.append(Event(REFUSED_KIND, ACTOR, "failure", details=details))
        if self._unreported_lost:
            lost, self._unreported_lost = self._unreported_lost, Counter()
            details = {"count": sum(lost.values()), "reasons": dict(sorted(lost.items()))}
            report.append(Event(LOST_KIND, ACTOR, "failure", details=details))
        return report

    def _restore(self, report: list[Event]) -> None:
        for event in report:
            if event.kind == REFUSED_KIND:
                self._unreported_refused.update(event.details["kinds"])
            elif event.kind == LOST_KIND:
                self._unreported_lost.update(event.details["reasons"])

    def flush(self) -> None:
        """Write everything queued so far (and every periodic entry) and stop the thread; record() restarts it."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            self._wake.set()
            thread.join(timeout=30)
        else:
            leftover = self._periodic(everything=True)
            if leftover or (self._unreported() and self._vault.is_open):
                self._write(leftover)

    def _unreported(self) -> bool:
        return bool(self._unreported_lost or self._unreported_refused)
