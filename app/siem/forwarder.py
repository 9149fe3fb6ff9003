"""Store-and-forward to a syslog collector over TLS: at least once, in order, keyed by the trail's seq.

TCP syslog has no application-level acknowledgement, so "acknowledged" means: written and flushed on an
established TLS connection that the collector had not closed. The cursor moves only after that, in a vault
write transaction. After any failure the connection is dropped and the next attempt resends from the cursor,
so only the batch in flight at the moment of failure can arrive twice; each copy carries its seq (structured
data and OCSF metadata.uid) for the collector to drop duplicates.

"In order" is the trail's order (seq). Each message's timestamp is its entry's own time, when the event happened:
a request entry is written after the request was answered, in a batch, so its timestamp can precede that of the
message sent before it (decision 0034); collectors order by timestamp and deduplicate by seq.
"""

from __future__ import annotations

import contextlib
import logging
import random
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from app.core.periodic import BackgroundService
from app.siem import spool
from app.siem.syslog import Collector, connect, frame, message, peer_closed
from app.store.vault import Vault

log = logging.getLogger(__name__)
BATCH = 500


@dataclass(frozen=True)
class Delivery:
    sent: int = 0
    first_seq: int | None = None
    last_seq: int | None = None

    def then(self, later: Delivery) -> Delivery:
        if not later.sent:
            return self
        if not self.sent:
            return later
        return Delivery(self.sent + later.sent, self.first_seq, later.last_seq)


class Link:
    """One connection to a collector, opened on first use and reopened after the collector went away."""

    def __init__(self, collector: Collector, connector: Callable[[Collector], ssl.SSLSocket] = connect) -> None:
        self.collector = collector
        self._connector = connector
        self._socket: ssl.SSLSocket | None = None

    def send(self, data: bytes) -> None:
        """Write and flush ``data``; raises OSError (the connection is then closed) when that is not certain."""
        if self._socket is not None and peer_closed(self._socket):
            self.close()
        if self._socket is None:
            self._socket = self._connector(self.collector)
        try:
            self._socket.sendall(data)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.close()
            self._socket = None


def deliver_batch(vault: Vault, link: Link, batch: int = BATCH) -> Delivery:
    """Send the next ``batch`` entries after the cursor and move the cursor past them."""
    collector = link.collector
    with vault.read_connection() as conn:
        events = spool.events_after(conn, spool.cursor(conn, collector.name), batch)
    if not events:
        return Delivery()
    link.send(b"".join(frame(message(event, fmt=collector.format)) for event in events))
    with vault.write_transaction() as conn:
        spool.advance(conn, collector.name, events[-1].seq)
    return Delivery(len(events), events[0].seq, events[-1].seq)


def send_pending(vault: Vault, collector: Collector, link: Link | None = None, batch: int = BATCH) -> Delivery:
    """Send everything after the cursor, batch by batch; raises on a connection, TLS or pin failure.

    Without a ``link`` a connection is opened (only when something is pending) and closed at the end.
    """
    own = link is None
    link = link or Link(collector)
    delivered = Delivery()
    try:
        while True:
            step = deliver_batch(vault, link, batch)
            if not step.sent:
                return delivered
            delivered = delivered.then(step)
    finally:
        if own:
            link.close()


class SiemForwarder(BackgroundService):
    """Forwards new trail entries every ``interval`` seconds over one kept-open connection; while the collector
    is down it backs off (exponentially, with jitter, up to ``max_backoff``) and the entries wait in the trail."""

    def __init__(
        self,
        vault: Vault,
        collector: Collector,
        interval: float = 2.0,
        max_backoff: float = 60.0,
        batch: int = BATCH,
        connector: Callable[[Collector], ssl.SSLSocket] = connect,
    ) -> None:
        super().__init__("siem")
        self.vault = vault
        self.collector = collector
        self.interval = interval
        self.max_backoff = max_backoff
        self.batch = batch
        self.failures = 0  # consecutive
        self.delivered = Delivery()  # since start
        self.last_error: str | None = None  # an exception's type name, never its text
        self._link = Link(collector, connector)

    def run_once(self) -> Delivery:
        """Deliver what is pending now over the kept connection (the loop's step; raises on failure)."""
        step = send_pending(self.vault, self.collector, self._link, self.batch)
        self.delivered = self.delivered.then(step)
        return step

    def backoff(self) -> float:
        ceiling = min(self.max_backoff, self.interval * 2**self.failures)
        return random.uniform(ceiling / 2, ceiling)

    def _run(self) -> None:
        delay = 0.0
        while not self._stop.wait(delay):
            if not self.vault.is_open:
                delay = self.interval
                continue
            try:
                self.run_once()
                self.failures, self.last_error, delay = 0, None, self.interval
            except Exception as exc:  # collector down, TLS refused, pin mismatch, vault locked: keep spooling
                self._link.close()
                self.failures += 1
                self.last_error = type(exc).__name__
                delay = self.backoff()
                log.warning("SIEM collector %s unavailable (%s); retrying in %.1f s", self.collector.name,
                            self.last_error, delay)  # fmt: skip
        self._link.close()

    def _after_stop(self) -> None:
        self._link.close()
