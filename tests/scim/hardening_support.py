"""A real HTTPS server on loopback with injected limits and clocks, for the endpoint-hardening tests (issue 11).

The attacker side uses raw TLS sockets (what a hostile client sends is not what httpx would send) and, where a
second source is needed, 127.0.0.2: Linux routes all of 127/8 to loopback, so the server sees another address.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select

from app.audit.tables import AuditEvent, SubjectKey
from app.audit.trail import StoredEvent, of_kind
from app.audit.vault_lifecycle import create_vault
from app.core.events import EventBus
from app.scim.auth import FailureThrottle
from app.scim.failures import FailureTally
from app.scim.server import ScimServer
from app.scim.transport import ConnectionLimits
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.store.vault import Vault
from tests.conftest import PASSPHRASE
from tests.policy_support import hold_everything

ATTACKER = "127.0.0.2"


@dataclass
class FakeClock:
    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 10, 0, 5, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Hardened:
    server: ScimServer
    vault: Vault
    token: str
    cert: Path
    data_dir: Path
    clock: FakeClock

    @property
    def port(self) -> int:
        return self.server.port

    def client(self, token: str | None = None, local: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        verify = ssl.create_default_context(cafile=str(self.cert))
        transport = httpx.HTTPTransport(verify=verify, local_address=local)
        return httpx.Client(base_url=self.server.base_url, headers=headers, transport=transport, timeout=10)

    def flush(self) -> None:
        assert self.server.recorder is not None
        self.server.recorder.flush()

    def events(self, kind: str) -> list[StoredEvent]:
        with self.vault.read_connection() as conn:
            return of_kind(conn, kind, limit=10_000)

    def counts(self) -> tuple[int, int]:
        """(audit entries, subject keys) in the vault."""
        with self.vault.read_session() as session:
            events = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
            keys = session.scalar(select(func.count()).select_from(SubjectKey)) or 0
        return events, keys


@contextmanager
def hardened_server(
    folder: Path,
    *,
    limits: ConnectionLimits | None = None,
    throttle: FailureThrottle | None = None,
) -> Iterator[Hardened]:
    vault = create_vault(folder, PASSPHRASE, PASSPHRASE)
    hold_everything(vault)
    _, token = TokenStore(vault).create("idp")
    tls = ensure_self_signed(folder)
    clock = FakeClock()
    server = ScimServer(vault, tls=tls, bus=EventBus(), limits=limits, throttle=throttle,
                        failures=FailureTally(clock=clock))  # fmt: skip
    server.start()
    try:
        yield Hardened(server, vault, token, tls.cert_path, folder, clock)
    finally:
        server.stop()
        vault.close()


def tls_socket(port: int, local: str | None = None) -> ssl.SSLSocket:
    """A raw TLS connection to the server (certificate not checked: the attacker does not care)."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(local, 0) if local else None)
    return context.wrap_socket(raw, server_hostname="localhost")


def read_all(sock: socket.socket, limit: float = 10.0) -> bytes:
    """Everything the server sends until it closes the connection (or ``limit`` seconds pass)."""
    sock.settimeout(limit)
    chunks = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, ssl.SSLError, OSError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def wait_for(check: Callable[[], bool], limit: float) -> float | None:
    """Seconds until ``check()`` held, polling every 50 ms; None if it never did within ``limit``."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if check():
            return time.monotonic() - started
        time.sleep(0.05)
    return None
