"""Store-and-forward to a syslog collector over TLS: at least once, in order, keyed by the trail's seq.

TCP syslog has no application-level acknowledgement (RFC 5425), so a batch counts as delivered only when the
collector's TCP has acknowledged every byte of it on a connection it had not closed (``wait_acknowledged``;
before, "written to this computer's send buffer" counted, and a collector that died with megabytes still
buffered here lost them all). The cursor moves only after that, in a vault write transaction. Where the system
cannot show the acknowledgements (SIOCOUTQ and TCP_INFO are Linux's), the cursor still moves once a batch is
written, or it would be sent for ever, but the batch counts as sent, not confirmed (``Delivery.unconfirmed``), and
the commands say so instead of claiming delivery. After any failure
the connection is dropped and the next attempt resends from the cursor. One window remains that TCP cannot close:
bytes the collector's TCP acknowledged but the collector never read, when it is killed. A collector that closes
with data unread resets the connection (RFC 1122 §4.2.2.13), so after a reset, or any failure of a connection
that was carrying data, the entries of its last ``REPLAY_BYTES`` are sent again: more than a collector's
receive buffer holds by default (Linux: 6 MiB). Every copy carries its seq (structured data and OCSF
metadata.uid) for the collector to drop duplicates; a duplicate is never sent under another seq.

"In order" is the trail's order (seq); a re-send starts again at an earlier seq, so a collector sees seqs go back
only right after a reconnection. Each message's timestamp is its entry's own time, when the event happened: a
request entry is written after the request was answered, in a batch, so its timestamp can precede that of the
message sent before it (decision 0034); collectors order by timestamp and deduplicate by seq.
"""

from __future__ import annotations

import contextlib
import logging
import random
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

from app.core.periodic import BackgroundService
from app.siem import spool
from app.siem.syslog import Collector, connect, failure_reason, frame, message, peer_state, wait_acknowledged
from app.store.vault import Vault

log = logging.getLogger(__name__)
BATCH = 500
ACK_TIMEOUT = 30.0  # seconds for the collector's TCP to acknowledge a batch
REPLAY_BYTES = 16 * 2**20  # what a connection that failed may have left unread at the collector


@dataclass(frozen=True)
class Delivery:
    sent: int = 0  # entries delivered for the first time (seq first_seq–last_seq)
    first_seq: int | None = None
    last_seq: int | None = None
    resent: int = 0  # copies sent again after a failed connection (not counted in ``sent``)
    unconfirmed: int = 0  # of ``sent``: written, but this system cannot tell whether the collector's TCP got them

    def then(self, later: Delivery) -> Delivery:
        resent, unconfirmed = self.resent + later.resent, self.unconfirmed + later.unconfirmed
        if not later.sent:
            return replace(self, resent=resent, unconfirmed=unconfirmed)
        if not self.sent:
            return replace(later, resent=resent, unconfirmed=unconfirmed)
        return Delivery(self.sent + later.sent, self.first_seq, later.last_seq, resent, unconfirmed)


class Link:
    """One connection to a collector, opened on first use and reopened after the collector went away.

    It remembers where each batch it carried starts (seq, octets sent before it), for the last ``REPLAY_BYTES``:
    when the connection fails, ``resend_from`` names the first entry the collector may not have read.
    """

    def __init__(
        self,
        collector: Collector,
        connector: Callable[[Collector], ssl.SSLSocket] = connect,
        ack_timeout: float = ACK_TIMEOUT,
    ) -> None:
        self.collector = collector
        self._connector = connector
        self._socket: ssl.SSLSocket | None = None
        self.ack_timeout = ack_timeout
        self.resend_from: int | None = None  # set after a failed connection: send again from this seq
        self._carried: deque[tuple[int, int]] = deque()  # (first seq of a batch, octets sent before it)
        self._octets = 0  # sent on this connection

    def check(self) -> None:
        """Close the connection if the collector has closed or reset it; after a reset, ``resend_from`` is set."""
        if self._socket is not None:
            state = peer_state(self._socket)
            if state != "open":  # an end of stream: the collector read everything before it closed
                self.close(failed=state == "reset")

    def send(self, data: bytes, first_seq: int = 0) -> bool:
        """Write ``data`` and wait until the collector's TCP has acknowledged it; raises OSError (the connection
        is then closed, and ``resend_from`` set) when that is not certain. False: written, but this system cannot
        see acknowledgements (sent, not confirmed)."""
        self.check()
        if self._socket is None:
            self._socket = self._connector(self.collector)
        self._carried.append((first_seq, self._octets))
        self._octets += len(data)
        while len(self._carried) > 1 and self._carried[1][1] <= self._octets - REPLAY_BYTES:
            self._carried.popleft()
        try:
            self._socket.sendall(data)
            return wait_acknowledged(self._socket, self.ack_timeout)
        except BaseException:
            self.close(failed=True)
            raise

    def close(self, failed: bool = False) -> None:
        """Close the connection; ``failed``: it did not end cleanly, so its last entries are sent again."""
        if failed and self._carried:
            first = self._carried[0][0]
            self.resend_from = first if self.resend_from is None else min(self.resend_from, first)
        self._carried.clear()
        self._octets = 0
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.close()
            self._socket = None


def deliver_batch(vault: Vault, link: Link, batch: int = BATCH) -> Delivery:
    """Send the next ``batch`` entries after the cursor (or again from ``link.resend_from``) and move the cursor
    past them."""
    collector = link.collector
    link.check()  # a reset since the last batch: what the collector may not have read is due again
    with vault.read_connection() as conn:
        after = spool.cursor(conn, collector.name)
        if link.resend_from is not None:
            after = min(after, link.resend_from - 1)
        events = spool.events_after(conn, after, batch)
    if not events:
        link.resend_from = None
        return Delivery()
    confirmed = link.send(b"".join(frame(message(event, fmt=collector.format)) for event in events), events[0].seq)
    if link.resend_from is not None:
        link.resend_from = events[-1].seq + 1
    with vault.write_transaction() as conn:
        before = spool.cursor(conn, collector.name)
        spool.advance(conn, collector.name, events[-1].seq)  # never backwards: a re-sent batch leaves it
    if before <= events[-1].seq:
        link.resend_from = None
    fresh = [event.seq for event in events if event.seq > before]
    if not fresh:
        return Delivery(resent=len(events))
    return Delivery(len(fresh), fresh[0], fresh[-1], len(events) - len(fresh), 0 if confirmed else len(fresh))


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
            if not step.sent and not step.resent:
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
                self._link.close(failed=isinstance(exc, OSError))
                self.failures += 1
                self.last_error = type(exc).__name__
                delay = self.backoff()
                log.warning("SIEM collector %s unavailable: %s; retrying in %.1f s", self.collector.name,
                            failure_reason(exc), delay)  # fmt: skip
        self._last_round()
        self._link.close()

    def _last_round(self) -> None:
        """On stop, deliver what the stopping app wrote last (its final request entries, the failed-authentication
        tally, the alerts they raised): stopped Custos may not run again soon, and an attacker who stops it right
        after acting must not keep those entries from the SIEM. Only when the collector was answering: a collector
        that is down would only hold up the stop."""
        if self.failures or not self.vault.is_open:
            return
        try:
            self.run_once()
        except Exception as exc:  # they wait in the trail for the next start, as after any failure
            self._link.close(failed=isinstance(exc, OSError))
            log.warning("SIEM collector %s unavailable at stop (%s); pending entries wait in the trail",
                        self.collector.name, type(exc).__name__)  # fmt: skip

    def _after_stop(self) -> None:
        self._link.close()
