"""Background jobs that run beside the SCIM server, in the app and in ``serve`` alike (Qt-free)."""

from __future__ import annotations

from app.core.events import EventBus, ResourcesChanged
from app.erasure.worker import ErasureWorker
from app.policy.in_force import PolicyInForce
from app.policy.retention import RetentionScheduler
from app.store.vault import Vault
from app.targets.dispatcher import Dispatcher


class BackgroundJobs:
    """Starts and stops the jobs of one unlocked vault: retention, provisioning and erasure at the targets."""

    def __init__(
        self, vault: Vault, policy: PolicyInForce, bus: EventBus | None = None, retention_interval: float | None = None
    ) -> None:
        kwargs = {} if retention_interval is None else {"interval": retention_interval}
        self.retention = RetentionScheduler(vault, policy, **kwargs)
        self.dispatcher = Dispatcher(vault, policy)
        self.erasure = ErasureWorker(vault)
        self._unsubscribe = bus.subscribe(self._on_event) if bus is not None else None

    def _on_event(self, event: object) -> None:
        if isinstance(event, ResourcesChanged):
            self.dispatcher.wake()  # outbox items were committed with the change
            if event.deleted:
                self.erasure.wake()  # an erasure request may have queued steps for the targets

    def start(self) -> None:
        self.retention.start()
        self.dispatcher.start()
        self.erasure.start()

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.erasure.stop()
        self.dispatcher.stop()
        self.retention.stop()
