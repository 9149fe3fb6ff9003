"""The dispatcher: one thread with an asyncio loop that drains the outbox to every target.

Bounded concurrency per target, the oldest item of each subject first (outbox.due), retries with backoff and
jitter (Retry-After honoured). Everything it needs is in the vault, so a restart resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from datetime import UTC, datetime

from app.core.errors import ConfigError
from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from app.targets import outbox
from app.targets.client import Rejected, Retryable, TargetClient
from app.targets.config import list_targets
from app.targets.mapping import TargetMapping, mapping_for
from app.targets.push import Pusher, record_failure

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5


class Dispatcher:
    def __init__(self, vault: Vault, policy: PolicyInForce, poll_seconds: float = POLL_SECONDS) -> None:
        self.vault = vault
        self.policy = policy
        self.poll_seconds = poll_seconds
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._pushers: dict[int, tuple[str, Pusher]] = {}  # target id -> (config fingerprint, pusher)
        self._in_flight: dict[int, int] = {}  # outbox seq -> target id
        self._stale: list[TargetClient] = []
        self.pushed = 0
        self.failures = 0

    # -- lifecycle (any thread) ------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping = False
        started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(started,), name="custos-dispatcher", daemon=True)
        self._thread.start()
        started.wait(10)

    def wake(self) -> None:
        """New work was committed: look now instead of at the next poll."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)

    def stop(self, timeout: float = 15.0) -> None:
        self._stopping = True
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # -- the loop --------------------------------------------------------------------------------------
    def _run(self, started: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._wake = asyncio.Event()
        started.set()
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.run_until_complete(self._close_clients())
            loop.close()
            self._loop = None

    async def _main(self) -> None:
        tasks: set[asyncio.Task[None]] = set()
        while not self._stopping:
            try:
                await self._schedule(tasks)
            except Exception as exc:  # a vault hiccup must not end provisioning; try again at the next poll
                log.error("dispatcher poll failed: %s", type(exc).__name__)
            assert self._wake is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()
        if tasks:
            await asyncio.wait(tasks, timeout=10)

    async def _schedule(self, tasks: set[asyncio.Task[None]]) -> None:
        pushers = await asyncio.to_thread(self._refresh_pushers)
        items = await asyncio.to_thread(self._due)
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
            return outbox.due(conn, datetime.now(UTC), set(self._in_flight))

    def _refresh_pushers(self) -> dict[int, Pusher]:
        with self.vault.read_connection() as conn:
            configs = list_targets(conn, enabled_only=True)
        policy = self.policy.get()
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
            pusher = Pusher(self.vault, config, TargetClient(config), mapping)
            self._pushers[config.id] = (fingerprint, pusher)
            current[config.id] = pusher
        return current

    async def _push(self, pusher: Pusher, item: outbox.WorkItem) -> None:
        try:
            await pusher.run(item)
            self.pushed += 1
        except Retryable as exc:
            await asyncio.to_thread(self._retry, item, str(exc), exc.status, exc.retry_after)
        except Rejected as exc:
            self.failures += 1
            await asyncio.to_thread(record_failure, self.vault, item, pusher.config.name, str(exc), exc.status)
        except Exception as exc:  # unexpected: keep the item, retry later, never crash the loop
            log.error("push to %s failed: %s", pusher.config.name, type(exc).__name__)
            await asyncio.to_thread(self._retry, item, f"internal error ({type(exc).__name__})", None, None)
        finally:
            self._in_flight.pop(item.seq, None)
            if self._wake is not None:
                self._wake.set()  # the next item of this subject may be due now

    def _retry(self, item: outbox.WorkItem, error: str, status: int | None, retry_after: float | None) -> None:
        with self.vault.write_transaction() as conn:
            if not outbox.retry_later(conn, item, error, status, retry_after, datetime.now(UTC)):
                self.failures += 1

    async def _close_clients(self) -> None:
        for client in self._stale:
            await client.close()
        for _, pusher in self._pushers.values():
            await pusher.client.close()
        self._pushers.clear()
