"""The dispatcher: one thread with an asyncio loop that drains the outbox to every target.

Bounded concurrency per target, the oldest item of each subject first (outbox.due), retries with backoff and
jitter (Retry-After honoured). Everything it needs is in the vault, so a restart resumes where it stopped.

When it looks (decision 0031): when this process committed outbox items (the one writer's change watch wakes
it), when an item it knows of comes due (a retry), and, for work queued by another process (a CLI command while
``serve`` runs), on a tick that reads ``PRAGMA data_version`` and scans only if the file changed since the last
tick. It no longer scans the outbox twice a second, nor after every write that queued nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func, select

from app.core.clock_step import StepWatch
from app.core.counters import Counters
from app.core.errors import ConfigError
from app.core.periodic import AsyncLoopService
from app.feed import outbox
from app.feed.tables import OutboxItem
from app.policy.in_force import PolicyInForce
from app.store.engine import is_disk_full
from app.store.vault import Vault
from app.targets.client import Rejected, Retryable, TargetClient
from app.targets.config import list_targets
from app.targets.mapping import TargetMapping, mapping_for
from app.targets.push import Outcome, Pusher, Restriction, StillServed, record_failure

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5
WAKE_COALESCE_SECONDS = 0.05
FLUSH_SECONDS = 0.02
# After the vault refused to record outcomes (a full disk, a read-only folder), pushing stops for a while, doubling
# up to a minute: each push made meanwhile could not be recorded either and would be made again at once, so the
# targets were sent the same requests a dozen times a second for as long as the disk stayed full.
UNRECORDED_PAUSE_SECONDS = 1.0
UNRECORDED_PAUSE_MAX_SECONDS = 60.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Retry(NamedTuple):
    """A push to try again later (the target was busy or unreachable, or something unexpected happened here)."""

    error: str
    status: int | None
    retry_after: float | None


class _Failure(NamedTuple):
    """A push the target refused: the item fails, the operator is told."""

    error: str
    status: int | None
    still_served: bool  # a DELETE accepted, the account still served (push.StillServed)


Finished = tuple[Pusher, outbox.WorkItem, Outcome | _Retry | _Failure]


class Dispatcher(AsyncLoopService):
    def __init__(
        self,
        vault: Vault,
        policy: PolicyInForce,
        *,
        restricted: Restriction,
        poll_seconds: float = POLL_SECONDS,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        super().__init__("dispatcher")
        self.clock = clock  # the wall clock the outbox's times are on; compared with time.monotonic() for steps
        self._steps = StepWatch(clock)  # the wall clock set back while queued retries wait (app/core/clock_step.py)
        self.vault = vault
        self.policy = policy
        self.restricted = restricted  # Art. 18 (app/dsr/restriction.py), handed in by the runtime
        self.poll_seconds = poll_seconds
        self._pushers: dict[int, tuple[str, Pusher]] = {}  # target id -> (config fingerprint, pusher)
        self._in_flight: dict[int, int] = {}  # outbox seq -> target id
        self._stale: list[TargetClient] = []
        self._finished: list[Finished] = []  # recorded in batches
        self._flush_now: asyncio.Event | None = None
        # items up to here were queued before this start: an attempt may have reached a target (None: not read yet)
        self._resume_seq: int | None = None
        self._uncertain: set[int] = set()
        # PRAGMA data_version as this loop thread's read connection last read it, with that connection: the counter
        # is per connection, and a reader is replaced (planner statistics, damage), so a value read on another
        # connection says nothing — it could equal the old one by chance and hide a commit.
        self._data_version: tuple[int, object] | None = None
        self._next_due: datetime | None = None  # the earliest pending item's time, from the last scan
        self._unrecorded = 0  # flushes refused by the vault in a row (a full disk): the pause doubles with each
        self._paused_until: float | None = None  # time.monotonic() until which nothing is pushed
        # Added to on the loop and on the worker threads it hands vault work to (a refused push, an item out of
        # attempts), read by anyone: under one lock (app/core/counters.py).
        self.counts = Counters("scans", "pushed", "failures")

    @property
    def scans(self) -> int:
        return self.counts["scans"]

    @property
    def pushed(self) -> int:
        return self.counts["pushed"]

    @property
    def failures(self) -> int:
        return self.counts["failures"]

    # -- lifecycle: start, wake and stop come from AsyncLoopService (one policy for every thread) -------------
    def _before_thread(self) -> None:
        # Read before the loop starts, not on it: an item committed between start() and the loop's first step is
        # this process's own (never attempted), and read late it would count as possibly pushed by a former run.
        self._resume_seq = self._last_seq() if self.vault.is_open else None

    async def _main(self) -> None:
        tasks: set[asyncio.Task[None]] = set()
        self._flush_now = asyncio.Event()
        if self._resume_seq is None:  # started with the vault closed: read at the loop's start, as before
            self._resume_seq = await asyncio.to_thread(self._last_seq)
        flusher = asyncio.create_task(self._flush_loop())
        woken = True  # the first pass looks: work may be waiting from before the start
        while not self.stopping:
            try:
                if self._should_look(woken):
                    await self._schedule(tasks)
            except Exception as exc:  # a vault hiccup must not end provisioning; try again at the next poll
                log.error("dispatcher poll failed: %s", type(exc).__name__)
            assert self._wake is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                # Woken by a commit: under a burst of writes every commit wakes us, so gather a moment's
                # worth of them into one scan instead of scanning the outbox once per commit.
                await asyncio.sleep(WAKE_COALESCE_SECONDS)
            woken = self._wake.is_set()
            self._wake.clear()
        if tasks:
            await asyncio.wait(tasks, timeout=10)
        flusher.cancel()
        await self._flush()

    def _changed_elsewhere(self) -> bool:
        """Whether any connection committed since the last tick (PRAGMA data_version: no page is read)."""
        with self.vault.read_connection() as conn:
            version = (int(conn.exec_driver_sql("PRAGMA data_version").scalar() or 0), conn.connection.dbapi_connection)
        changed = (
            self._data_version is None
            or version[0] != self._data_version[0]
            or (version[1] is not self._data_version[1])
        )
        self._data_version = version
        return changed

    def _should_look(self, woken: bool) -> bool:
        """Whether to scan the outbox now. Never while pushing is paused because outcomes could not be recorded
        (UNRECORDED_PAUSE_SECONDS), nor while the vault is closed (the app's "vault closed" state)."""
        if self._paused_until is not None:
            if time.monotonic() < self._paused_until:
                return False
            self._paused_until = None
            woken = True  # the pushes left unrecorded are due again
        if not self.vault.is_open:
            return False
        step = self._steps.stepped_back()
        if step:
            self._rebase(step)
            woken = True
        return woken or self._changed_elsewhere() or self._due_now()

    def _rebase(self, step: float) -> None:
        """Queued retries, timed on the clock before it went back, are moved back as far: they come due after the
        wait they were given, not after the step as well."""
        with self.vault.write_transaction() as conn:
            moved = outbox.shift_pending(conn, timedelta(seconds=step), self.clock())
        self._next_due = None
        log.warning("the system clock went back %.0f s; %d queued retries moved back as far", step, moved)

    def _due_now(self) -> bool:
        return self._next_due is not None and self._next_due <= self.clock()

    def _last_seq(self) -> int:
        with self.vault.read_connection() as conn:
            return int(conn.execute(select(func.max(OutboxItem.seq))).scalar() or 0)

    # -- recording outcomes: one transaction for every push finished meanwhile ----------------------------
    async def _flush_loop(self) -> None:
        assert self._flush_now is not None
        while True:
            await self._flush_now.wait()
            await asyncio.sleep(FLUSH_SECONDS)  # let concurrent pushes finish into the same transaction
            self._flush_now.clear()
            await self._flush()

    async def _flush(self) -> None:
        batch, self._finished = self._finished, []
        if not batch:
            return
        try:
            await asyncio.to_thread(self._write, batch)
        except Exception as exc:  # the items stay pending and are pushed again, searching first, after a pause
            self._uncertain.update(item.seq for _, item, _ in batch)
            self._pause_after_unrecorded(len(batch), exc)
        else:
            self._unrecorded = 0
        for _, item, _ in batch:
            self._in_flight.pop(item.seq, None)
        if self._wake is not None and self._paused_until is None:
            self._wake.set()  # the next item of these subjects may be due now

    def _pause_after_unrecorded(self, count: int, exc: Exception) -> None:
        self._unrecorded += 1
        pause = min(UNRECORDED_PAUSE_MAX_SECONDS, UNRECORDED_PAUSE_SECONDS * 2 ** (self._unrecorded - 1))
        self._paused_until = time.monotonic() + pause
        why = "the disk is full" if is_disk_full(exc) else type(exc).__name__
        log.error("could not record %d push outcome(s) (%s); pushing again in %.0f s", count, why, pause)

    def _write(self, batch: list[Finished]) -> None:
        now = self.clock()
        with self.vault.write_transaction() as conn:
            for pusher, item, result in batch:
                if isinstance(result, _Retry):
                    if not outbox.retry_later(conn, item, result.error, result.status, result.retry_after, now):
                        self.counts.add("failures")
                elif isinstance(result, _Failure):
                    record_failure(conn, item, pusher.config.name, result.error, result.status, result.still_served)
                else:
                    pusher.finish(conn, item, result)

    async def _schedule(self, tasks: set[asyncio.Task[None]]) -> None:
        # Items first, then the policy: an item queued by a policy apply is only visible once that version is
        # committed, so the mappings read next are at least as new as the work they will push.
        items = await asyncio.to_thread(self._due)
        if not items:
            return  # nothing to push: no need to re-read the targets and the policy
        pushers = await asyncio.to_thread(self._refresh_pushers)
        busy: dict[int, int] = {}
        for target_id in self._in_flight.values():
            busy[target_id] = busy.get(target_id, 0) + 1
        for item in items:
            pusher = pushers.get(item.target_id)
            if pusher is None:
                continue
            if busy.get(item.target_id, 0) >= pusher.config.max_concurrency:
                continue
            busy[item.target_id] = busy.get(item.target_id, 0) + 1
            self._in_flight[item.seq] = item.target_id
            task = asyncio.create_task(self._push(pusher, item))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    def _due(self) -> list[outbox.WorkItem]:
        with self.vault.read_connection() as conn:
            self.counts.add("scans")
            items = outbox.due(conn, self.clock(), set(self._in_flight))
            self._next_due = outbox.earliest_pending(conn)
            return items

    def _refresh_pushers(self) -> dict[int, Pusher]:
        with self.vault.read_connection() as conn:
            configs = list_targets(conn, enabled_only=True)
        policy = self.policy.refresh()
        current: dict[int, Pusher] = {}
        for config in configs:
            fingerprint = f"{policy.version}:{json.dumps(config.__dict__, default=str, sort_keys=True)}"
            known = self._pushers.get(config.id)
            if known is not None and known[0] == fingerprint:
                current[config.id] = known[1]
                continue
            try:
                mapping: TargetMapping = mapping_for(policy.policy, config.recipient_id, config.renames)
            except ConfigError as exc:
                log.warning("target %s is not provisioned: %s", config.name, exc.user_message)
                continue
            if known is not None:
                self._stale.append(known[1].client)  # closed by the loop; a push may still be using it
            pusher = Pusher(self.vault, config, TargetClient(config), mapping, self.restricted)
            self._pushers[config.id] = (fingerprint, pusher)
            current[config.id] = pusher
        return current

    async def _push(self, pusher: Pusher, item: outbox.WorkItem) -> None:
        resumed = self._resume_seq is None or item.seq <= self._resume_seq
        may_exist = item.attempts > 0 or resumed or item.seq in self._uncertain
        try:
            outcome = await pusher.run(item, may_exist)
            self.counts.add("pushed")
            self._finished.append((pusher, item, outcome))
        except Retryable as exc:
            self._finished.append((pusher, item, _Retry(str(exc), exc.status, exc.retry_after)))
        except Rejected as exc:
            self.counts.add("failures")
            self._finished.append((pusher, item, _Failure(str(exc), exc.status, isinstance(exc, StillServed))))
        except Exception as exc:  # unexpected: keep the item, retry later, never crash the loop
            log.error("push to %s failed: %s", pusher.config.name, type(exc).__name__)
            self._finished.append((pusher, item, _Retry(f"internal error ({type(exc).__name__})", None, None)))
        self._uncertain.discard(item.seq)  # _flush puts it back if its outcome cannot be recorded
        assert self._flush_now is not None
        self._flush_now.set()

    async def _close(self) -> None:
        for client in self._stale:
            await client.close()
        for _, pusher in self._pushers.values():
            await pusher.client.close()
        self._pushers.clear()
