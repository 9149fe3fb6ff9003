"""EventBus → Qt: events published on any thread reach the GUI thread queued and coalesced.

A provisioning burst can publish thousands of ResourcesChanged events a second; the views should refresh at
most every ``interval_ms`` with the union of the ids. RequestServed events are only counted (under a lock,
on the publishing thread) so that a busy server does not flood the GUI event queue.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from app.core.events import AlertRaised, EventBus, PolicyApplied, RequestServed, ResourcesChanged, RetentionPurged

COALESCE_MS = 300
RATE_WINDOW_SECONDS = 60.0


class ChangeSet:
    """Ids changed since the last flush, per resource type; later events win over earlier ones."""

    def __init__(self) -> None:
        self.created: set[str] = set()
        self.modified: set[str] = set()
        self.deleted: set[str] = set()
        self.more_modified = False  # more were modified than the ids say: a listener reads them all again

    def merge(self, event: ResourcesChanged) -> None:
        for rid in event.created:
            self.deleted.discard(rid)
            self.created.add(rid)
        for rid in event.modified:
            if rid not in self.created:
                self.modified.add(rid)
        for rid in event.deleted:
            self.created.discard(rid)
            self.modified.discard(rid)
            self.deleted.add(rid)
        self.more_modified = self.more_modified or event.more_modified

    def __bool__(self) -> bool:
        return bool(self.created or self.modified or self.deleted or self.more_modified)

    def event(self, resource_type: str) -> ResourcesChanged:
        return ResourcesChanged(
            resource_type,
            tuple(sorted(self.created)),
            tuple(sorted(self.modified)),
            tuple(sorted(self.deleted)),
            self.more_modified,
        )


class EventBridge(QObject):
    resources_changed = Signal(object)  # one merged ResourcesChanged per resource type and flush
    alert_raised = Signal(object)  # an AlertRaised from the anomaly rules, delivered on the GUI thread
    data_changed = Signal(object)  # a PolicyApplied or RetentionPurged: stored values changed without ids
    _incoming = Signal(object)

    def __init__(self, bus: EventBus, interval_ms: int = COALESCE_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending: dict[str, ChangeSet] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._flush)
        self._requests: deque[float] = deque()
        self._requests_lock = threading.Lock()
        # Queued explicitly: the emitting thread is the server's, the receiver lives on the GUI thread.
        self._incoming.connect(self._on_incoming, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: Callable[[], None] | None = bus.subscribe(self._on_any_thread)

    def close(self) -> None:
        """Stop listening; call before the bridge is deleted so no thread emits into a dead object."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._timer.stop()
        self._pending.clear()

    def _on_any_thread(self, event: object) -> None:
        if isinstance(event, RequestServed):
            now = time.monotonic()
            with self._requests_lock:
                self._requests.append(now)
                while self._requests[0] < now - RATE_WINDOW_SECONDS:  # bounded even if nobody reads the rate
                    self._requests.popleft()
        elif isinstance(event, ResourcesChanged):
            self._incoming.emit(event)
        elif isinstance(event, AlertRaised):
            self.alert_raised.emit(event)  # cross-thread emit: Qt queues it to the GUI thread
        elif isinstance(event, PolicyApplied | RetentionPurged):
            self.data_changed.emit(event)  # purged values: the views read the mirror again

    def _on_incoming(self, event: ResourcesChanged) -> None:
        if self._unsubscribe is None:
            return
        self._pending.setdefault(event.resource_type, ChangeSet()).merge(event)
        if not self._timer.isActive():  # a fixed delay from the first event: at most one refresh per interval
            self._timer.start()

    def _flush(self) -> None:
        pending, self._pending = self._pending, {}
        for resource_type, changes in pending.items():
            self.resources_changed.emit(changes.event(resource_type))

    def request_rate(self, window: float = RATE_WINDOW_SECONDS) -> float:
        """Requests per minute over the last ``window`` seconds."""
        horizon = time.monotonic() - window
        with self._requests_lock:
            while self._requests and self._requests[0] < horizon:
                self._requests.popleft()
            served = len(self._requests)
        return served * 60.0 / window
