"""Every event type of the app, and a tiny thread-safe publish/subscribe bus (docs/decisions/0025).

Each open vault has one bus (``Vault.events``): whoever commits a change publishes it there after the commit
(the SCIM service, erasure, a policy apply, retention, a reconcile repair, the anomaly rules), whether or not
anyone listens; the runtime's jobs wake on them and the UI bridges them onto the GUI thread. Events carry ids
and counts only, never attribute values.
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
    # More of this type were modified than ``modified`` names (a rename of a group of 100,000 gives each member user
    # a new version, decision 0047; its event names a bounded number of them): a listener showing them reads them
    # all again rather than only the ids named.
    more_modified: bool = False


@dataclass(frozen=True)
class RequestServed:
    """One SCIM request was answered (for the request-rate display)."""

    method: str
    status: int
    duration_ms: float


@dataclass(frozen=True)
class AlertRaised:
    """An anomaly rule fired (app/siem/alerts.py) or the vault reported damage (app/scim/damage.py): the app
    shows a notification and a badge."""

    seq: int  # the alert's own entry on the trail (0 when it has none)
    rule: str
    observed: int
    summary: str
    threshold: int = 0
    window_minutes: int = 0
    trigger_seq: int = 0
    configuration: bool = False  # a set-up problem (an IdP mapping sending what the policy refuses), not a breach


@dataclass(frozen=True)
class PolicyApplied:
    """A policy version was committed with what it purged (counts); a changed mapping may have queued outbox
    items for the targets in the same transaction."""

    version: int
    resources_changed: int = 0
    resources_deleted: int = 0


@dataclass(frozen=True)
class RetentionPurged:
    """The retention job committed purges (values stripped; expired accounts go through erasure, which publishes
    its own ResourcesChanged)."""

    purges: int
    subjects: int


@dataclass(frozen=True)
class OutboxQueued:
    """Provisioning work was committed without a change to the mirror (a reconcile repair, a sync)."""

    target: str
    items: int


Event = ResourcesChanged | RequestServed | AlertRaised | PolicyApplied | RetentionPurged | OutboxQueued
"""What may be published: a listener that matches on these types sees every event of the app."""


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

    def publish(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:  # a faulty listener must never break the server
                log.exception("event subscriber failed for %s", type(event).__name__)
