"""A collector killed mid-stream, as in an incident: what it had been sent but never read is sent again.

TCP syslog has no acknowledgement of its own. A collector process that dies with bytes still in its socket buffer
(its TCP took them, the process never read them) resets the connection; before, the forwarder had counted those
entries as delivered the moment they were written, and they never reached any collector.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time

from app.siem import spool
from app.siem.forwarder import Link, SiemForwarder
from app.siem.syslog import Collector
from app.store.vault import Vault
from tests.ports import PortReservation
from tests.siem.conftest import Certificate, Listener, add_events


class DyingCollector:
    """Takes the TLS connection, reads ``reads`` frames' worth of bytes, lets the rest arrive in its socket buffer
    unread, then dies: the socket is closed with SO_LINGER 0, a reset, as the kernel does for a killed process."""

    def __init__(self, certificate: Certificate, reads: int) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(certificate.cert_path), str(certificate.key_path))
        self.reservation = PortReservation()  # the collector restarted on its port binds beside it (tests/ports.py)
        self.server = self.reservation.listening_socket(1)
        self.port = self.reservation.port
        self.reads = reads
        self.took = threading.Event()  # it has read its frames and sits on the rest
        self.die = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        raw, _ = self.server.accept()
        tls = self.context.wrap_socket(raw, server_side=True)
        frames = 0
        while frames < self.reads:
            chunk = tls.recv(1)  # one byte at a time: nothing beyond the frames it keeps is read
            frames += chunk == b"<"  # each SYSLOG-MSG starts with its PRI
        self.took.set()
        self.die.wait(10)
        tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        socket.socket.close(tls)  # no TLS close_notify: the process is gone
        self.server.close()


def test_a_collector_killed_with_entries_unread_gets_them_again(
    vault: Vault, certificates: tuple[Certificate, ...]
) -> None:
    add_events(vault, 120)
    with vault.read_connection() as conn:
        newest = spool.last_seq(conn)
    dying = DyingCollector(certificates[0], reads=10)
    destination = Collector("127.0.0.1", dying.port, certificates[0].fingerprint)
    forwarder = SiemForwarder(vault, destination, batch=500)
    first = forwarder.run_once()  # the collector's TCP takes every byte of the batch
    assert first.sent == newest and dying.took.wait(5)
    time.sleep(0.2)
    dying.die.set()  # killed: the entries after the tenth were never read by anyone
    dying.thread.join(5)

    restarted = Listener(certificates[0])
    restarted.start(dying.port)
    try:
        again = forwarder.run_once()  # sees the reset, reconnects, sends what the dead collector may not have read
        assert (again.sent, again.resent) == (0, newest)  # copies, not new deliveries
        received = restarted.wait_for(newest, timeout=5)
    finally:
        forwarder.stop()
        restarted.stop()
    assert set(received) == set(range(1, newest + 1))  # at least once: nothing lost
    assert received == sorted(received) and len(received) == newest  # re-sent once, in order, under its own seq
    with vault.read_connection() as conn:
        assert spool.cursor(conn, destination.name) == newest


def test_a_connection_that_ended_cleanly_sends_nothing_again(vault: Vault, listener: Listener) -> None:
    """A collector that closes after reading everything (an end of stream, no reset) is owed nothing twice."""
    destination = Collector("127.0.0.1", listener.port, listener.certificate.fingerprint)
    link = Link(destination)
    add_events(vault, 5)
    with vault.read_connection() as conn:
        newest = spool.last_seq(conn)
    forwarder = SiemForwarder(vault, destination)
    forwarder._link = link
    forwarder.run_once()
    assert listener.wait_for(newest) == list(range(1, newest + 1))
    port = listener.port
    listener.stop()  # it had read everything: its close is an end of stream
    listener.start(port)
    time.sleep(0.05)
    add_events(vault, 2)
    forwarder.run_once()
    forwarder.stop()
    assert listener.wait_for(newest + 2) == list(range(1, newest + 3)) and link.resend_from is None
