"""A request that meets a damaged vault page: a generic 503 to the client, an alert the operator sees.

The client learns nothing about the store (the body is generic, like every 5xx here) and is told to come back
later: an IdP retries a 503, and the data it sends is not lost while the operator restores a backup. The operator
gets a critical log line (the terminal of ``serve``, the app's log) and an alert on the event bus (the app's
Incidents badge and status bar), at most once per ``interval`` so that a busy IdP cannot flood either. Nothing is
written to the damaged vault on the way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from app.core.events import AlertRaised, EventBus
from app.directory.errors import ScimError

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 300
RULE = "vault-damaged"
UNAVAILABLE = "vault-unavailable"
SUMMARY = "The vault file is damaged: requests fail. Run 'custos vault check', then 'custos vault restore BACKUP'."


class DamageAlarm:
    def __init__(
        self,
        bus: EventBus,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        rule: str = RULE,
        met: str = "vault damaged: a request met a damaged page",
    ) -> None:
        """``rule`` and ``met`` name what requests meet: a damaged page, or (UNAVAILABLE) a vault that cannot be
        written at all, such as its file moved away under ``serve``."""
        self.bus = bus
        self.rule = rule
        self.met = met
        self.interval = interval
        self.clock = clock
        self.seen = 0  # requests that met damage since start
        self._last: float | None = None
        self._lock = threading.Lock()

    def error(self, summary: str = SUMMARY) -> tuple[ScimError, dict[str, str]]:
        """Count, alert if due, and the answer to give the client. ``summary``: what the operator must do."""
        with self._lock:
            self.seen += 1
            now = self.clock()
            due = self._last is None or now - self._last >= self.interval
            if due:
                self._last = now
            seen = self.seen
        if due:
            log.critical("%s (%d so far). %s", self.met, seen, summary)
            self.bus.publish(AlertRaised(0, self.rule, seen, summary))
        error = ScimError(503, "The service is unavailable; the operator has been alerted.")
        return error, {"Retry-After": str(RETRY_AFTER_SECONDS)}
