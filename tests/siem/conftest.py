"""A real TLS syslog collector on loopback that parses RFC 5425 octet-counted frames, and trail helpers."""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.audit.trail import Event, append_many
from app.store.vault import Vault
from tests.ports import PortReservation

_SEQ = re.compile(r'\[custos@32473 seq="(\d+)"')


@dataclass(frozen=True)
class Certificate:
    cert_path: Path
    key_path: Path
    fingerprint: str  # SHA-256 of the DER certificate, hex


def make_certificate(folder: Path, name: str = "collector") -> Certificate:
    """A self-signed ECDSA certificate for 127.0.0.1 (and localhost), made with ``cryptography``."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"test syslog {name}")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Certificate(cert_path, key_path, cert.fingerprint(hashes.SHA256()).hex())


class Listener:
    """RFC 5425 receiver: TLS on 127.0.0.1, one connection at a time, ``MSG-LEN SP SYSLOG-MSG`` frames.

    It keeps every message it gets, in order, and drops nothing: duplicates would show in ``messages``.
    """

    def __init__(self, certificate: Certificate) -> None:
        self.certificate = certificate
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(str(certificate.cert_path), str(certificate.key_path))
        self.messages: list[str] = []
        self.connections = 0
        self.bad_frames = 0
        self.port = 0
        self._running = False
        self._server: socket.socket | None = None
        self._reservation: PortReservation | None = None
        self._thread: threading.Thread | None = None

    def start(self, port: int = 0) -> None:
        """Listen on ``port`` (0: one the system chooses). The port stays reserved after ``stop`` (tests/ports.py):
        a restart on it cannot find it taken by another test meanwhile. A number another collector of this test
        holds is bound beside its reservation."""
        if self._reservation is None or port not in (0, self._reservation.port):
            self._reservation = PortReservation(port)
        server = self._reservation.listening_socket(5)
        server.settimeout(0.05)
        self.port = self._reservation.port
        self._server = server
        self._running = True
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        assert self._server is not None
        while self._running:
            try:
                raw, _ = self._server.accept()
            except OSError:
                continue
            self.connections += 1
            try:
                raw.settimeout(2)
                with self.context.wrap_socket(raw, server_side=True) as tls:
                    self._read_frames(tls)
            except (ssl.SSLError, OSError):
                pass  # e.g. a client that refused our certificate

    def _read_frames(self, tls: ssl.SSLSocket) -> None:
        buffer = b""
        tls.settimeout(0.05)
        while self._running:
            try:
                chunk = tls.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                return
            buffer += chunk
            while True:
                length_text, space, rest = buffer.partition(b" ")
                if not space:
                    break
                if not length_text.isdigit() or length_text.startswith(b"0"):
                    self.bad_frames += 1
                    return
                length = int(length_text)
                if len(rest) < length:
                    break
                self.messages.append(rest[:length].decode("utf-8"))
                buffer = rest[length:]

    def seqs(self) -> list[int]:
        return [int(match.group(1)) for m in self.messages if (match := _SEQ.search(m))]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[int]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.seqs()

    def stop(self) -> None:
        """Stop listening and close the open connection (the client sees it closed)."""
        self._running = False
        if self._thread is not None:
            self._thread.join(5)
        if self._server is not None:
            self._server.close()
            self._server = None


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Certificate, Certificate]:
    folder = tmp_path_factory.mktemp("syslog-certs")
    return make_certificate(folder, "collector"), make_certificate(folder, "impostor")


@pytest.fixture
def listener(certificates: tuple[Certificate, Certificate]) -> Iterator[Listener]:
    running = Listener(certificates[0])
    running.start()
    yield running
    running.stop()


def add_events(
    vault: Vault,
    n: int,
    kind: str = "scim.request",
    start: datetime | None = None,
    step: timedelta = timedelta(seconds=1),
    actor: str = "token:okta",
    **details: object,
) -> None:
    """``n`` entries of one kind, ``step`` apart from ``start``, in one transaction."""
    moment = start or datetime.now(UTC)
    base = {"source": "127.0.0.1", **details} if kind == "scim.request" else dict(details)
    with vault.write_transaction() as conn:
        append_many(conn, [Event(kind, actor, details=base, at=moment + step * i) for i in range(n)])
