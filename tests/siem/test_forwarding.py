"""Forwarding to a real TLS syslog listener on 127.0.0.1: pinning, CA verification, and an outage that loses and
duplicates nothing (the listener drops nothing, so the exact sequence of seqs is asserted)."""

from __future__ import annotations

import json
import ssl
import time

import pytest

from app.siem import spool
from app.siem.forwarder import SiemForwarder, send_pending
from app.siem.syslog import Collector, PinMismatch
from app.store.vault import Vault
from tests.siem.conftest import Certificate, Listener, add_events


def cursor(vault: Vault, destination: Collector) -> int:
    with vault.read_connection() as conn:
        return spool.cursor(conn, destination.name)


def wait_until(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.01)


def test_wrong_fingerprint_refuses_to_send(vault: Vault, listener: Listener) -> None:
    add_events(vault, 5)
    wrong = Collector("127.0.0.1", listener.port, "00" * 32)
    with pytest.raises(PinMismatch):
        send_pending(vault, wrong)
    time.sleep(0.1)
    assert listener.messages == [] and cursor(vault, wrong) == 0  # nothing went out, nothing counts as sent
    unpinned = Collector("127.0.0.1", listener.port)  # the system CAs do not know a self-signed certificate
    with pytest.raises(ssl.SSLCertVerificationError):
        send_pending(vault, unpinned)
    assert listener.messages == []


def test_pinned_and_ca_verified_delivery(
    vault: Vault, listener: Listener, certificates: tuple[Certificate, Certificate]
) -> None:
    add_events(vault, 30)
    pinned = Collector("127.0.0.1", listener.port, listener.certificate.fingerprint)
    first = send_pending(vault, pinned, batch=7)  # several batches over one connection
    with vault.read_connection() as conn:
        newest = spool.last_seq(conn)
    assert (first.sent, first.first_seq, first.last_seq) == (newest, 1, newest)
    assert listener.wait_for(newest) == list(range(1, newest + 1))
    assert listener.connections == 1 and listener.bad_frames == 0
    assert send_pending(vault, pinned).sent == 0  # nothing pending: no connection at all
    assert listener.connections == 1

    add_events(vault, 2)
    other_ca = Collector("127.0.0.1", listener.port, ca_file=str(certificates[1].cert_path))
    with pytest.raises(ssl.SSLCertVerificationError):
        send_pending(vault, other_ca)
    # The same destination (host:port, one cursor) verified by its CA instead, and OCSF JSON as the MSG.
    by_ca = Collector("127.0.0.1", listener.port, ca_file=str(certificates[0].cert_path), format="ocsf")
    assert send_pending(vault, by_ca).sent == 2
    assert listener.wait_for(newest + 2) == list(range(1, newest + 3))
    record = json.loads(listener.messages[-1].split('"] ', 1)[1])
    assert record["metadata"]["uid"] == str(newest + 2) and record["class_uid"] == 6003


def test_outage_spools_in_the_trail_then_delivers_everything_once_in_order(vault: Vault, listener: Listener) -> None:
    destination = Collector("127.0.0.1", listener.port, listener.certificate.fingerprint)
    forwarder = SiemForwarder(vault, destination, interval=0.02, max_backoff=0.1, batch=25)
    forwarder.start()
    try:
        add_events(vault, 40)
        with vault.read_connection() as conn:
            before_outage = spool.last_seq(conn)
        assert listener.wait_for(before_outage) == list(range(1, before_outage + 1))
        wait_until(lambda: cursor(vault, destination) == before_outage)

        port = listener.port
        listener.stop()  # the collector goes down (its connection closes); entries keep coming
        for _ in range(3):
            add_events(vault, 20)
            time.sleep(0.05)
        wait_until(lambda: forwarder.failures >= 2)
        assert forwarder.failures >= 2 and forwarder.last_error is not None
        assert cursor(vault, destination) == before_outage  # the cursor did not move: the trail is the spool
        with vault.read_connection() as conn:
            assert spool.pending(conn, destination.name) == 60

        listener.start(port)  # back, on the same port
        with vault.read_connection() as conn:
            newest = spool.last_seq(conn)
        wait_until(lambda: cursor(vault, destination) == newest)
    finally:
        forwarder.stop()
    assert listener.wait_for(newest) == list(range(1, newest + 1))  # every entry once, in order
    assert forwarder.delivered.sent == newest and forwarder.failures == 0
    with vault.read_connection() as conn:
        assert spool.pending(conn, destination.name) == 0
        assert spool.cursors(conn) == [(destination.name, newest)]


def test_forwarder_reconnects_when_the_collector_drops_the_connection(vault: Vault, listener: Listener) -> None:
    destination = Collector("127.0.0.1", listener.port, listener.certificate.fingerprint)
    forwarder = SiemForwarder(vault, destination, interval=0.02, max_backoff=0.1)
    add_events(vault, 3)
    first = forwarder.run_once()
    assert listener.wait_for(first.sent) == list(range(1, first.sent + 1))
    port = listener.port
    listener.stop()
    listener.start(port)  # a restart between two rounds: the kept connection is dead
    time.sleep(0.05)
    add_events(vault, 2)
    second = forwarder.run_once()  # notices the closed connection before writing, and reconnects
    forwarder.stop()
    assert second.sent == 2 and listener.connections == 2
    assert listener.wait_for(first.sent + 2) == list(range(1, first.sent + 3))
