"""The background services that run while the vault is open, on one lifecycle (docs/decisions/0024).

``BackgroundService`` is the one start/stop/join policy every thread of the runtime follows: started once (a
second start is a no-op), stopped by setting an event and waking the thread, joined for at most
``STOP_TIMEOUT_SECONDS``; a thread still alive then is named in the log and left behind (it is a daemon, so it
cannot keep the process alive). A thread left behind is still kept, and the service says it is "stopping": a start
waits for it to end and refuses (StillStopping) if it does not. Forgotten, it let a start run a second loop beside
it, and clearing the stop for the new loop also let the old one go on: two dispatchers pushing the same outbox
items. Two flavours share it:

- ``PeriodicJob``: a fixed interval (retention, checkpoints, alerts, request deadlines, SIEM forwarding): a first
  delay, nothing while the vault is closed, a failure logged by type (never its message: it may quote data) and
  retried at the next turn.
- ``AsyncLoopService``: an asyncio loop in its own thread with a thread-safe ``wake()`` (the provisioning
  dispatcher and the erasure worker), for work that waits on many HTTP calls at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Literal

from app.core.errors import CustosError

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 15.0  # one policy for every service: long enough for an in-flight HTTP call to time out
LOOP_START_SECONDS = 10.0


class StillStopping(CustosError):
    """A start while the service's previous thread, told to stop, has not ended: a second loop would run beside it."""

    def __init__(self, name: str) -> None:
        super().__init__(f"The {name} service has not stopped yet (a call still in progress); try again shortly.")


class BackgroundService:
    """One named daemon thread with a prompt, bounded stop; never two threads of one service alive at once."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None  # kept until it has ended, even past a stop's timeout
        self._lifecycle = threading.Lock()  # start and stop from two threads (the GUI's, a worker's) take turns

    @property
    def state(self) -> Literal["stopped", "running", "stopping"]:
        """ "stopping": told to stop, its thread not ended yet (left behind by a stop that timed out)."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return "stopped"
        return "stopping" if self._stop.is_set() else "running"

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self, wait: float = STOP_TIMEOUT_SECONDS) -> None:
        """Start the thread (a no-op while it runs). A thread left behind by a stop is waited for, up to ``wait``
        seconds; StillStopping if it is still alive then: clearing the stop would let it run on beside the new one."""
        with self._lifecycle:
            old = self._thread
            if old is not None and old.is_alive():
                if not self._stop.is_set():
                    return
                old.join(wait)
                if old.is_alive():
                    raise StillStopping(self.name)
            self._before_thread()
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=f"custos-{self.name}", daemon=True)
            self._thread.start()

    def _before_thread(self) -> None:
        """Read what must be known before start() returns, on the caller's thread. Where a service's work begins
        (the dispatcher's own items, the alert watcher's news) read later on its thread would let something the
        caller commits right after start() count as from before it."""

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        with self._lifecycle:
            self._stop.set()
            self._interrupt()
            thread = self._thread
            if thread is not None:
                thread.join(timeout)
                if thread.is_alive():  # e.g. a call that ignores its own timeout; the daemon dies with the process
                    log.warning("%s did not stop within %.0f s", thread.name, timeout)
                else:
                    self._thread = None
            self._after_stop()

    def _run(self) -> None:  # pragma: no cover - every subclass has its own
        raise NotImplementedError

    def _interrupt(self) -> None:
        """Wake the thread so that it sees the stop now (the base waits on ``_stop`` itself)."""

    def _after_stop(self) -> None:
        """Release what outlives the thread (a kept-open connection), once it has ended or been left."""


class PeriodicJob(BackgroundService):
    def __init__(
        self,
        name: str,
        work: Callable[[], object],
        interval: float,
        first_delay: float | None = None,
        ready: Callable[[], bool] = lambda: True,
    ) -> None:
        super().__init__(name)
        self._work = work
        self.interval = interval
        self._first_delay = interval if first_delay is None else first_delay
        self._ready = ready
        self.runs = 0

    def _run(self) -> None:
        delay = self._first_delay
        while not self._stop.wait(delay):
            delay = self.interval
            if not self._ready():
                continue  # e.g. the vault is closed: nothing may run until it is opened again
            try:
                self._work()
                self.runs += 1
            except Exception as exc:  # retried at the next interval; a job never takes the app down
                log.error("%s job failed: %s", self.name, type(exc).__name__)


class AsyncLoopService(BackgroundService):
    """An asyncio loop in one thread: ``_main`` runs until ``stopping``; ``_close`` runs on the loop after it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._ready = threading.Event()

    def start(self, wait: float = STOP_TIMEOUT_SECONDS) -> None:
        if self.running:
            return
        self._ready.clear()
        super().start(wait)
        self._ready.wait(LOOP_START_SECONDS)  # wake() works from here on

    def wake(self) -> None:
        """New work was committed: look now instead of at the next poll (any thread)."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)

    def _interrupt(self) -> None:
        self.wake()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._wake = asyncio.Event()
        self._ready.set()
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.run_until_complete(self._close())
            loop.close()
            self._loop = None

    async def _main(self) -> None:  # pragma: no cover - every subclass has its own
        raise NotImplementedError

    async def _close(self) -> None:
        """Close what the loop opened (HTTP clients), on the loop."""
