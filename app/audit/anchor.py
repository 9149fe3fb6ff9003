"""Time-based checkpoints for a quiet trail: appends make them every N entries, this makes them every T minutes
even when nothing is appended, so the newest entries are never long without a signed tree head; and one when the
process stops, over everything it wrote (``serve`` and the app when their jobs stop, a command when it closes the
vault: app/services/vault.py)."""

from __future__ import annotations

import logging

from app.audit.checkpoints import checkpoint_now, maybe_checkpoint
from app.core.errors import CustosError
from app.core.periodic import PeriodicJob
from app.store.vault import Vault

log = logging.getLogger(__name__)


class CheckpointScheduler(PeriodicJob):
    def __init__(self, vault: Vault, interval: float = 60.0) -> None:
        def run() -> None:
            with vault.write_transaction() as conn:
                maybe_checkpoint(conn)

        super().__init__("checkpoints", run, interval, ready=lambda: vault.is_open)
        self._vault = vault

    def sign_now(self) -> None:
        """Sign the tree head now (when the process stops, after the last job that writes to the trail).

        Entries after the last checkpoint are only chain-checked: cut off the end, they leave no trace. A serve
        session or an app session shorter than the interval (10 minutes, or 1,000 entries) signed nothing, so a
        trail handed over after an incident could lose its whole end, or every entry, and still read intact.
        Never fails the stop: a checkpoint that cannot be signed is logged, as after an append.
        """
        sign_tree_head(self._vault)


def sign_tree_head(vault: Vault) -> None:
    """Sign the trail up to its newest entry, if it grew since the last checkpoint (else nothing is written):
    when a process that wrote to it ends, ``serve`` or a command. Never fails the caller: a checkpoint that cannot
    be signed is logged, as after an append."""
    if not vault.is_open:
        return
    try:
        with vault.write_transaction() as conn:
            checkpoint_now(conn)
    except Exception as exc:
        reason = exc if isinstance(exc, CustosError) else type(exc).__name__  # never a value from the trail
        log.error("audit checkpoint not made at stop: %s", reason)
