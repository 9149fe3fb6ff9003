"""After deletions, fold the WAL back into the main file and truncate it, soon but not on every request.

With ``secure_delete`` on, deleted rows are zeroed in the pages that held them; the WAL, however, still
holds earlier page images until a checkpoint. A coalesced checkpoint a couple of seconds after the last delete
keeps DELETE fast while leaving no deleted data in the WAL for long.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

from app.core.errors import VaultLocked
from app.store.vault import Vault

log = logging.getLogger(__name__)

DEFAULT_DELAY_SECONDS = 2.0


class WalJanitor:
    def __init__(self, vault: Vault, delay: float = DEFAULT_DELAY_SECONDS) -> None:
        self._vault = vault
        self._delay = delay
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def request(self) -> None:
        with self._lock:
            if self._timer is None:
                self._timer = threading.Timer(self._delay, self._run)
                self._timer.daemon = True
                self._timer.start()

    def _run(self) -> None:
        with self._lock:
            self._timer = None
        try:
            self._vault.checkpoint()
        except (SQLAlchemyError, VaultLocked):
            log.warning("WAL checkpoint after deletion could not run; it will run at the next one")

    def flush(self) -> None:
        """Run a pending checkpoint now (on shutdown)."""
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
            self._run()
