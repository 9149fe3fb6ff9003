"""A job that runs every few seconds in its own thread while the vault is open (retention, checkpoints…).

One place for the loop every scheduled job needs: a first delay, a steady interval, nothing while the vault is
closed, a failure logged by type (never its message: it may quote data) and retried at the next turn, and a
stop that returns promptly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class PeriodicJob:
    def __init__(
        self,
        name: str,
        work: Callable[[], object],
        interval: float,
        first_delay: float | None = None,
        ready: Callable[[], bool] = lambda: True,
    ) -> None:
        self.name = name
        self._work = work
        self.interval = interval
        self._first_delay = interval if first_delay is None else first_delay
        self._ready = ready
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"custos-{self.name}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
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

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
