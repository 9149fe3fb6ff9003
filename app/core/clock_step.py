"""Noticing the wall clock stepped back (an NTP correction, an operator setting the time) while a process runs.

Queued retries are timed on the wall clock, since they must survive a restart. Set back an hour, a retry due in a
second comes due an hour and a second later; the loops that run them compare the wall clock with the monotonic one
at each look and move what waits back by the step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

STEP_SECONDS = 5.0  # less is jitter between two readings of two clocks, or a slow look


class StepWatch:
    def __init__(self, clock: Callable[[], datetime], monotonic: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.monotonic = monotonic
        self._last: tuple[datetime, float] | None = None

    def stepped_back(self) -> float:
        """Seconds the wall clock went back since the last call beyond what the monotonic clock allows; 0 if not."""
        wall, mono = self.clock(), self.monotonic()
        last, self._last = self._last, (wall, mono)
        if last is None:
            return 0.0
        step = (mono - last[1]) - (wall - last[0]).total_seconds()
        return step if step > STEP_SECONDS else 0.0
