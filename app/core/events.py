"""A tiny thread-safe publish/subscribe bus.

The SCIM server publishes from its own thread after each commit; the UI bridges the events onto the GUI
thread. Events carry resource ids only, never attribute values.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResourcesChanged:
    """Resources of one type were created, modified or deleted."""

    resource_type: str  # "User" or "Group"
    created: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()


@dataclass(frozen=True)
class RequestServed:
    """One SCIM request was answered (for the request-rate display)."""

    method: str
    status: int
    duration_ms: float


@dataclass
class EventBus:
    _subscribers: list[Callable[[object], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self, callback: Callable[[object], None]) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, event: object) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:  # a faulty listener must never break the server
                log.exception("event subscriber failed for %s", type(event).__name__)
