"""Background jobs that run beside the SCIM server, in the app and in ``serve`` alike (Qt-free)."""

from __future__ import annotations

from app.policy.in_force import PolicyInForce
from app.policy.retention import RetentionScheduler
from app.store.vault import Vault


class BackgroundJobs:
    """Starts and stops the scheduled jobs of one unlocked vault."""

    def __init__(self, vault: Vault, policy: PolicyInForce, retention_interval: float | None = None) -> None:
        kwargs = {} if retention_interval is None else {"interval": retention_interval}
        self.retention = RetentionScheduler(vault, policy, **kwargs)

    def start(self) -> None:
        self.retention.start()

    def stop(self) -> None:
        self.retention.stop()
