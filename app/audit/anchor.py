"""Time-based checkpoints for a quiet trail: appends make them every N entries, this makes them every T minutes
even when nothing is appended, so the newest entries are never long without a signed tree head."""

from __future__ import annotations

import logging
import threading

from app.audit.checkpoints import maybe_checkpoint
from app.store.vault import Vault

log = logging.getLogger(__name__)


class CheckpointScheduler:
    def __init__(self, vault: Vault, interval: float = 60.0) -> None:
        self.vault = vault
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.made = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="custos-checkpoints", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            if not self.vault.is_open:
                continue
            try:
                with self.vault.write_transaction() as conn:
                    if maybe_checkpoint(conn) is not None:
                        self.made += 1
            except Exception as exc:  # a tampered tail is reported by verification; keep the app running
                log.error("scheduled checkpoint failed: %s", type(exc).__name__)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None
