"""Request-level audit events, appended in batches off the request path.

Every SCIM request (reads too) goes on the trail. One durable transaction per request would halve the read
throughput, so requests put their event on a queue and a thread appends whatever is waiting in one
transaction every ``FLUSH_SECONDS``. Changes to the mirror are not recorded here: those events are written in
the same transaction as the change itself (app/scim/service.py).
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from app.audit.trail import Event, append_many
from app.core.errors import VaultLocked
from app.store.vault import Vault

log = logging.getLogger(__name__)
FLUSH_SECONDS = 0.25
MAX_BATCH = 2000


class AuditRecorder:
    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self._queue: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.recorded = 0

    def record(self, event: Event) -> None:
        self._queue.put(event)
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="custos-audit-recorder", daemon=True)
                    self._thread.start()

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            batch: list[Event] = []
            if first is None:
                stopping = True
            else:
                batch.append(first)
                stopping = self._drain_into(batch, wait=FLUSH_SECONDS)
            if batch:
                self._write(batch)

    def _drain_into(self, batch: list[Event], wait: float) -> bool:
        """Collect what arrives within ``wait`` seconds; True when a stop was requested."""
        deadline = time.monotonic() + wait
        while len(batch) < MAX_BATCH:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                item = self._queue.get(timeout=remaining)
            except queue.Empty:
                return False
            if item is None:
                return True
            batch.append(item)
        return False

    def _write(self, batch: list[Event]) -> None:
        try:
            with self._vault.write_transaction() as conn:
                append_many(conn, batch)  # one tail read and one INSERT for the whole batch
            self.recorded += len(batch)
        except VaultLocked:
            log.info("vault closed: %d request event(s) could not be recorded", len(batch))
        except Exception as exc:  # never let a recorder failure reach a request
            log.error("could not record %d request event(s): %s", len(batch), type(exc).__name__)

    def flush(self) -> None:
        """Write everything queued so far and stop the thread (a later record() starts it again)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)
