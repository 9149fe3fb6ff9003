"""Store-and-forward to a syslog collector over TLS: at least once, in order, keyed by the trail's seq.

TCP syslog has no application-level acknowledgement, so "delivered" means written and flushed on an
established TLS connection; the cursor moves only after that. After a failure the next attempt resends from
the cursor, so only the batch in flight at the moment of failure can arrive twice, and each copy carries its
seq (structured data and OCSF metadata.uid) for the collector to drop duplicates.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, insert, select, update

from app.audit.trail import read
from app.siem.syslog import Collector, connect, frame, message
from app.siem.tables import SiemCursor
from app.store.models import AuditEvent
from app.store.vault import Vault

log = logging.getLogger(__name__)
_C = SiemCursor.__table__
BATCH = 500


@dataclass(frozen=True)
class Delivery:
    sent: int
    first_seq: int | None
    last_seq: int | None


def cursor(conn: Connection, destination: str) -> int:
    return int(conn.execute(select(_C.c.last_seq).where(_C.c.destination == destination)).scalar() or 0)


def _advance(conn: Connection, destination: str, seq: int) -> None:
    now = datetime.now(UTC)
    if not conn.execute(update(_C).where(_C.c.destination == destination).values(last_seq=seq, updated=now)).rowcount:
        conn.execute(insert(_C).values(destination=destination, last_seq=seq, updated=now))


def cursors(conn: Connection) -> list[tuple[str, int]]:
    return [(row.destination, row.last_seq) for row in conn.execute(select(_C).order_by(_C.c.destination))]


def pending(conn: Connection, destination: str) -> int:
    after = cursor(conn, destination)
    return int(conn.execute(select(func.count()).where(AuditEvent.__table__.c.seq > after)).scalar_one())


def send_pending(vault: Vault, collector: Collector) -> Delivery:
    """Send everything after the cursor, batch by batch; raises on a connection or TLS failure."""
    with vault.read_connection() as conn:
        start = cursor(conn, collector.name)
    first: int | None = None
    last: int | None = None
    sent = 0
    connection = connect(collector)
    try:
        while True:
            with vault.read_connection() as conn:
                batch = [event for _, event in zip(range(BATCH), read(conn, start + 1, BATCH), strict=False)]
            if not batch:
                break
            connection.sendall(b"".join(frame(message(event)) for event in batch))
            last = batch[-1].seq
            first = batch[0].seq if first is None else first
            sent += len(batch)
            with vault.write_transaction() as conn:
                _advance(conn, collector.name, last)
            start = last
    finally:
        connection.close()
    return Delivery(sent, first, last)


class SiemForwarder:
    """Forwards new trail entries every ``interval`` seconds; backs off (with jitter) while the collector is down."""

    def __init__(self, vault: Vault, collector: Collector, interval: float = 2.0, max_backoff: float = 60.0) -> None:
        self.vault = vault
        self.collector = collector
        self.interval = interval
        self.max_backoff = max_backoff
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0
        self.delivered = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="custos-siem", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        delay = 0.0
        while not self._stop.wait(delay):
            if not self.vault.is_open:
                delay = self.interval
                continue
            try:
                self.delivered += send_pending(self.vault, self.collector).sent
                self.failures = 0
                delay = self.interval
            except (OSError, ValueError) as exc:  # collector down, TLS refused, pin mismatch: keep spooling
                self.failures += 1
                ceiling = min(self.max_backoff, self.interval * 2**self.failures)
                delay = random.uniform(ceiling / 2, ceiling)
                log.warning("SIEM collector %s unavailable (%s); retrying", self.collector.name, type(exc).__name__)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None
