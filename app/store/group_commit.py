"""Group commit: many concurrent writes share one durable transaction (one fsync).

With ``synchronous = FULL`` every SQLite commit waits for an fsync of the WAL (about 3 ms here), which caps
one-commit-per-request at a few hundred writes per second. Writers instead hand a job to this single writer
thread and block until the transaction that contains it is on disk. The thread takes every job waiting, runs
each inside its own SAVEPOINT (a failing job is rolled back alone and gets its exception), commits once, then
releases all callers. Nobody is answered before their write is durable.

When callers have announced a write that is still on its way (``arriving``: the HTTP layer validates a body
before it queues the job), the thread waits up to ``GATHER_SECONDS`` for it before committing, so that the
writes in flight share a commit instead of each paying its own (issue 16 step 3). With nothing announced it
commits at once: a lone write never waits.

The transactions run on the vault's one write connection (app/store/writer.py).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection

from app.core.errors import StorageFull
from app.store.engine import is_disk_full
from app.store.vault import Vault

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_BATCH = 256
GATHER_SECONDS = 0.002  # how long a batch waits for announced writes still being validated
OPTIMIZE_INTERVAL_SECONDS = 10.0  # refresh the planner's statistics while the mirror grows (cheap when current)


@dataclass
class _Job:
    work: Callable[[Connection], Any]
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


class TransactionAborted(Exception):
    """SQLite ended the whole transaction while a job failed (it may on SQLITE_FULL or an I/O error), so the
    savepoint to roll back to is gone, and with it the work of every job before this one in the batch."""

    def __init__(self, failure: BaseException) -> None:
        super().__init__(type(failure).__name__)
        self.failure = failure


def _as_reported(exc: BaseException) -> BaseException:
    """A full disk becomes StorageFull (answered 507, retried later); every other failure is kept as it is."""
    while isinstance(exc, TransactionAborted):
        exc = exc.failure
    if isinstance(exc, StorageFull) or not is_disk_full(exc):
        return exc
    full = StorageFull()
    full.__cause__ = exc
    return full


def run_in_savepoint(conn: Connection, work: Callable[[Connection], T]) -> T:
    """Run ``work`` so that a failure undoes its changes and nothing else in the transaction.

    Plain SAVEPOINT statements (standard SQL, also PostgreSQL's) cost a fraction of SQLAlchemy's nested
    transaction objects, and this runs once per write: on the DB-API connection, whose statement cache keeps
    them prepared (SQLAlchemy's execution machinery cost more than SQLite's work here).
    """
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute("SAVEPOINT custos_job")
    try:
        result = work(conn)
    except BaseException as failure:
        try:
            raw.execute("ROLLBACK TO SAVEPOINT custos_job")
            raw.execute("RELEASE SAVEPOINT custos_job")
        except Exception as lost:
            raise TransactionAborted(failure) from lost
        raise
    raw.execute("RELEASE SAVEPOINT custos_job")
    return result


class GroupCommitWriter:
    def __init__(self, vault: Vault, max_batch: int = MAX_BATCH, gather_seconds: float = GATHER_SECONDS) -> None:
        self._vault = vault
        self._max_batch = max_batch
        self._gather_seconds = gather_seconds
        self._arriving = 0  # announced writes not queued yet
        self._arriving_lock = threading.Lock()
        self._announced = threading.local()
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.jobs = 0
        self._last_optimize = time.monotonic()

    @contextmanager
    def arriving(self) -> Iterator[None]:
        """Announce that this thread is about to queue a write (it validates first): a batch being formed waits
        a moment for it. Ends when the write is queued (``run``) or when the block ends, whichever comes first."""
        with self._arriving_lock:
            self._arriving += 1
        self._announced.pending = True
        try:
            yield
        finally:
            self._arrived()

    def _arrived(self) -> None:
        if getattr(self._announced, "pending", False):
            self._announced.pending = False
            with self._arriving_lock:
                self._arriving -= 1

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(connection)`` in the next group transaction; return once it is committed."""
        self._ensure_thread()
        job = _Job(work)
        self._queue.put(job)
        self._arrived()  # after the put: a batch that saw this write announced finds it queued
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="custos-group-commit", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stopping = False
            deadline = time.monotonic() + self._gather_seconds
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    remaining = deadline - time.monotonic()
                    if self._arriving <= 0 or remaining <= 0:
                        break
                    try:  # a write is being validated: wait for it, briefly, to share this commit
                        item = self._queue.get(timeout=remaining)
                    except queue.Empty:
                        break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self._run_batch(batch)
            if stopping:
                return

    def _run_batch(self, batch: list[_Job]) -> None:
        try:
            with self._vault.write_transaction() as conn:
                for job in batch:
                    try:
                        job.result = run_in_savepoint(conn, job.work)
                    except TransactionAborted:
                        raise  # the jobs before this one were undone too: none of the batch may report success
                    except BaseException as exc:  # the job's own failure: only its changes were undone
                        job.error = _as_reported(exc)
        except BaseException as exc:  # the commit itself failed: nobody's write is durable
            log.error("group commit of %d writes failed: %s", len(batch), type(exc).__name__)
            for job in batch:
                if job.error is None:
                    job.error = _as_reported(exc)
        self.batches += 1
        self.jobs += len(batch)
        for job in batch:
            job.done.set()
        if time.monotonic() - self._last_optimize > OPTIMIZE_INTERVAL_SECONDS:  # after callers are released
            self._last_optimize = time.monotonic()
            try:
                self._vault.optimize()
            except Exception as exc:  # statistics can wait (a full disk, say); this thread must keep writing
                log.warning("refreshing the query planner's statistics failed: %s", type(exc).__name__)
