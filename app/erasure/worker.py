"""The erasure worker: one thread with an asyncio loop that carries erasure steps to the targets.

Like the provisioning dispatcher (app/targets/dispatcher.py): bounded concurrency per target, vault access in
worker threads, outcomes recorded in batches. Claims are leases in the vault (app/erasure/steps.py), so two
processes on one vault never run the same step, and a crash resumes where it stopped. The core is
``run_once`` with an injected clock: tests drive it step by step with a fake clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from app.core.clock_step import StepWatch
from app.core.periodic import AsyncLoopService
from app.erasure import requests, steps
from app.erasure.executor import Attempt
from app.erasure.model import State
from app.store.vault import Vault
from app.targets.client import TargetClient
from app.targets.config import TargetConfig, list_targets

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5
FLUSH_SECONDS = 0.02
SCRUB_RETRY_SECONDS = 60.0
CLAIM_PER_SLOT = 8  # steps leased per free connection slot of a target: enough to keep it busy, no more

Clock = Callable[[], datetime]
ClientFactory = Callable[[TargetConfig], TargetClient]


def utc_now() -> datetime:
    return datetime.now(UTC)


class ErasureWorker(AsyncLoopService):
    def __init__(
        self,
        vault: Vault,
        clock: Clock = utc_now,
        client_factory: ClientFactory = TargetClient,
        poll_seconds: float = POLL_SECONDS,
        max_attempts: int = steps.MAX_ATTEMPTS,
    ) -> None:
        super().__init__("erasure")
        self.vault = vault
        self.clock = clock
        self.client_factory = client_factory
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self._clients: dict[int, tuple[str, TargetClient]] = {}
        self._stale: list[TargetClient] = []
        self._in_flight: dict[int, int] = {}  # step id -> target id
        self._finished: list[tuple[steps.StepWork, steps.AttemptResult]] = []
        self._last_scrub: float | None = None
        self._steps = StepWatch(clock)  # the wall clock set back while steps wait for a retry (clock_step.py)
        self.attempts = 0

    # -- lifecycle: start, wake and stop come from AsyncLoopService (one policy for every thread) -----------
    def tick(self) -> int:
        """Run every step due now to its end and record it; returns how many ran (for tests and scripts)."""
        return asyncio.run(self._tick())

    async def _tick(self) -> int:
        try:
            await asyncio.to_thread(self._recover)
            claimed = await asyncio.to_thread(self._record_and_claim, [])
            results = await asyncio.gather(*(self._attempt(work) for work in claimed))
            await asyncio.to_thread(self._record_and_claim, list(zip(claimed, results, strict=True)), False)
            return len(claimed)
        finally:
            self._in_flight.clear()
            await self._close()

    # -- the loop ----------------------------------------------------------------------------------------
    async def _main(self) -> None:
        tasks: set[asyncio.Task[None]] = set()
        assert self._wake is not None
        while not self.stopping:
            try:
                if self.vault.is_open:
                    step = self._steps.stepped_back()
                    if step:
                        await asyncio.to_thread(self._rebase, step)
                    await asyncio.to_thread(self._recover)
                    for work in await self._cycle():
                        task = asyncio.create_task(self._run_step(work))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
            except Exception as exc:  # a vault hiccup must not end erasure; try again at the next poll
                log.error("erasure poll failed: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()
            await asyncio.sleep(FLUSH_SECONDS)  # let attempts finishing together share one transaction
        if tasks:
            await asyncio.wait(tasks, timeout=10)
        if self._finished and self.vault.is_open:
            await self._cycle(claim=False)

    def _rebase(self, step: float) -> None:
        """Retries and leases timed on the clock before it went back come due after their own wait, not the step's."""
        with self.vault.write_transaction() as conn:
            moved = steps.shift_waiting(conn, timedelta(seconds=step), self.clock())
        log.warning("the system clock went back %.0f s; %d waiting erasure steps moved back as far", step, moved)

    async def _run_step(self, work: steps.StepWork) -> None:
        result = await self._attempt(work)
        self._finished.append((work, result))  # after the await: _cycle swaps the list meanwhile
        if self._wake is not None:
            self._wake.set()

    async def _cycle(self, claim: bool = True) -> list[steps.StepWork]:
        """Record what finished and lease what is due, in one write transaction (one fsync per cycle)."""
        batch, self._finished = self._finished, []
        try:
            claimed = await asyncio.to_thread(self._record_and_claim, batch, claim)
        except Exception:
            self._finished = batch + self._finished  # recorded at the next cycle; the leases keep others off
            raise
        for work, _ in batch:
            self._in_flight.pop(work.id, None)
        return claimed

    # -- one attempt ---------------------------------------------------------------------------------------
    async def _attempt(self, work: steps.StepWork) -> steps.AttemptResult:
        client = self._clients.get(work.target_id)
        if client is None:
            return steps.AttemptResult(State.FAILED, "the target's configuration could not be read")
        try:
            return await Attempt(client[1], self.clock).run(work)
        except Exception as exc:  # unexpected: keep the step, retry later, never crash the loop
            log.error("erasure attempt at %s failed: %s", work.target_name, type(exc).__name__)
            return steps.AttemptResult(State.FAILED, f"internal error ({type(exc).__name__})")
        finally:
            self.attempts += 1

    # -- vault access (in worker threads) ------------------------------------------------------------------
    def _recover(self) -> None:
        """Scrub the storage of requests whose scrub did not run (a crash) or did not complete (another writer
        held the lock), at most once per SCRUB_RETRY_SECONDS; close those that are done."""
        moment = time.monotonic()
        if self._last_scrub is not None and moment - self._last_scrub < SCRUB_RETRY_SECONDS:
            return
        self._last_scrub = moment
        with self.vault.read_connection() as conn:
            pending = requests.unscrubbed(conn)
        for request_id in pending:
            requests.finish_local(self.vault, request_id, self.clock())

    def _record_and_claim(
        self, batch: list[tuple[steps.StepWork, steps.AttemptResult]], claim: bool = True
    ) -> list[steps.StepWork]:
        now = self.clock()
        claimed: list[steps.StepWork] = []
        if not batch:
            with self.vault.read_connection() as conn:  # idle (the usual case): a read, not a write transaction
                if not steps.any_claimable(conn) and not requests.open_request_ids(conn):
                    return claimed
        with self.vault.write_transaction() as conn:
            if batch:
                steps.record(conn, batch, now, self.max_attempts)
            if claim:
                configs = {config.id: config for config in list_targets(conn)}
                self._refresh_clients(configs)
                busy: dict[int, int] = {}
                done = {work.id for work, _ in batch}
                for step_id, target_id in self._in_flight.items():
                    if step_id not in done:
                        busy[target_id] = busy.get(target_id, 0) + 1
                capacity = {
                    tid: max(0, config.max_concurrency * CLAIM_PER_SLOT - busy.get(tid, 0))
                    for tid, config in configs.items()
                }
                exclude = set(self._in_flight)
                claimed = steps.claim_due(conn, now, capacity, exclude)
            steps.close_if_done(conn, requests.open_request_ids(conn), now)
        for work in claimed:
            self._in_flight[work.id] = work.target_id
        return claimed

    def _refresh_clients(self, configs: dict[int, TargetConfig]) -> None:
        for config in configs.values():
            fingerprint = json.dumps(config.__dict__, default=str, sort_keys=True)
            known = self._clients.get(config.id)
            if known is not None and known[0] == fingerprint:
                continue
            if known is not None:
                self._stale.append(known[1])
            self._clients[config.id] = (fingerprint, self.client_factory(config))

    async def _close(self) -> None:
        for client in self._stale:
            await client.close()
        for _, client in self._clients.values():
            await client.close()
        self._stale.clear()
        self._clients.clear()


def drive(vault: Vault, request_ids: list[str], timeout: float, worker: ErasureWorker | None = None) -> bool:
    """Run a worker in this process until the requests are closed, nothing automatic is left to do for them (a
    manual target waits for an attestation), or ``timeout`` passes; True if all are closed."""
    own = worker or ErasureWorker(vault, poll_seconds=0.2)
    own.start()
    deadline = time.monotonic() + timeout
    try:
        while True:
            with vault.read_connection() as conn:
                done = all(requests.state_of(conn, rid) != "open" for rid in request_ids)
                idle = not done and not steps.automatic_work_left(conn, request_ids)
            if idle:  # every step waits for an operator or is over: close what can be closed, and stop
                with vault.write_transaction() as conn:
                    steps.close_if_done(conn, request_ids, own.clock())
                with vault.read_connection() as conn:
                    return all(requests.state_of(conn, rid) != "open" for rid in request_ids)
            if done or time.monotonic() >= deadline:
                return done
            time.sleep(0.1)
    finally:
        own.stop()
