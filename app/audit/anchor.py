"""Time-based checkpoints for a quiet trail: appends make them every N entries, this makes them every T minutes
even when nothing is appended, so the newest entries are never long without a signed tree head."""

from __future__ import annotations

from app.audit.checkpoints import maybe_checkpoint
from app.core.periodic import PeriodicJob
from app.store.vault import Vault


class CheckpointScheduler(PeriodicJob):
    def __init__(self, vault: Vault, interval: float = 60.0) -> None:
        def run() -> None:
            with vault.write_transaction() as conn:
                maybe_checkpoint(conn)

        super().__init__("checkpoints", run, interval, ready=lambda: vault.is_open)
