"""The embedded SCIM server: uvicorn on a plain background thread, usable by the app, `serve` and tests.

Not a QThread, so the headless path never imports Qt. ``stop()`` asks uvicorn to exit from the calling
thread and joins it; nothing is terminated forcibly.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import uvicorn

from app.audit.recorder import AuditRecorder
from app.core.errors import ConfigError
from app.core.events import EventBus
from app.core.network import is_loopback
from app.policy.in_force import PolicyInForce
from app.scim.auth import Authenticator, FailureThrottle
from app.scim.failures import FailureTally
from app.scim.http import ScimApp
from app.scim.service import ScimService
from app.scim.transport import ClientNoiseFilter, ConnectionGuard, ConnectionLimits, guarded_protocol
from app.setup.endpoint import BASE_PATH, EndpointSettings
from app.setup.tls import TlsMaterial, harden
from app.setup.tokens import TokenStore
from app.store.group_commit import GroupCommitWriter
from app.store.hygiene import WalJanitor
from app.store.vault import Vault

log = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 15.0
KEEP_ALIVE_SECONDS = 30


def event_loop_name() -> str:
    """uvloop where it is installed (Linux, macOS), asyncio's own loop elsewhere (Windows, which uvloop lacks).

    The server is bound by one core (decision 0035) and its event loop's share is TLS records and socket calls:
    uvloop does them in C. Side by side on the same requests (issue 16) it took 13–22 % off the server's CPU per
    request, reads and writes alike. Behaviour is the same on both loops; tests/scim runs on the one installed.
    """
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


class _Server(uvicorn.Server):
    """uvicorn's server with deadlines on the TLS handshake and on the TLS close.

    uvicorn leaves the loop's defaults, 60 s for a handshake and 30 s for a close, so a client that opens TCP and
    never completes the handshake holds a socket for a minute, and one that never answers our close_notify (a
    connection refused or timed out by the guard) for half a minute more. The listening sockets are created by
    uvicorn's startup(); this passes both deadlines to the one call that makes them, and changes nothing else.
    """

    handshake_timeout: float = ConnectionLimits.handshake_timeout

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        if self.config.ssl is None:
            await super().startup(sockets=sockets)
            return
        create_server = loop.create_server
        # uvicorn passes no handshake timeout and asyncio has no other hook; put back in ``finally`` below
        loop.create_server = functools.partial(  # type: ignore[method-assign]  # for this startup only
            create_server, ssl_handshake_timeout=self.handshake_timeout, ssl_shutdown_timeout=self.handshake_timeout
        )
        try:
            await super().startup(sockets=sockets)
        finally:
            del loop.create_server  # the instance attribute goes; the loop's own method is back


class ScimServer:
    def __init__(
        self,
        vault: Vault,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: TlsMaterial | None,
        bus: EventBus | None = None,
        tokens: TokenStore | None = None,
        public_host: str | None = None,
        policy: PolicyInForce | None = None,
        limits: ConnectionLimits | None = None,
        failures: FailureTally | None = None,
        throttle: FailureThrottle | None = None,
        writer: GroupCommitWriter | None = None,
        janitor: WalJanitor | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if tls is None and not is_loopback(host):
            raise ConfigError("Plain HTTP is only allowed on a loopback address; give a certificate or use TLS.")
        self.vault = vault
        self.host = host
        self.tls = tls
        self.bus = bus or vault.events
        self.tokens = tokens or TokenStore(vault)
        self.policy = policy or PolicyInForce(vault)  # shared with the jobs and the app: one view of the policy
        self._requested_port = port
        self._public_host = public_host
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = 0
        self.service: ScimService | None = None
        self.recorder: AuditRecorder | None = None
        self._app: ScimApp | None = None
        self.guard = ConnectionGuard(limits or ConnectionLimits())
        self._noise = ClientNoiseFilter(self.guard)
        self.failures = failures or FailureTally()  # injectable: tests give it a fake clock
        self.throttle = throttle or FailureThrottle()
        self._writer, self._janitor = writer, janitor  # the runtime's; the service makes its own without them
        self.clock = clock or (lambda: datetime.now(UTC))  # times the request entries; tests give a fake one

    def relocate(self, host: str, port: int, public_host: str | None, tls: TlsMaterial | None) -> None:
        """Listen elsewhere, or with another certificate, from the next start; only while stopped."""
        if self._thread is not None:
            raise ConfigError("Stop the endpoint before changing its address or certificate.")
        if tls is None and not is_loopback(host):
            raise ConfigError("Plain HTTP is only allowed on a loopback address; give a certificate or use TLS.")
        self.host, self._requested_port, self._public_host, self.tls = host, port, public_host, tls

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.started and not self._server.should_exit

    @property
    def base_url(self) -> str:
        return EndpointSettings(self.host, self.port, self._public_host).base_url(tls=self.tls is not None)

    @property
    def fingerprint(self) -> str | None:
        return self.tls.fingerprint if self.tls else None

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto must be IPPROTO_TCP: asyncio only sets TCP_NODELAY on accepted sockets that say so, and without it
        # a response written in two parts waits ~40 ms for the client's delayed ACK (Nagle).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._requested_port))
        except OSError as exc:
            sock.close()
            raise ConfigError(f"Cannot listen on {self.host}:{self._requested_port}: {exc.strerror}.") from exc
        sock.listen(512)
        sock.set_inheritable(True)
        return sock

    def start(self) -> None:
        if self._thread is not None:
            return
        self._socket = self._bind()
        self.port = self._socket.getsockname()[1]
        self.service = ScimService(
            self.vault, self.base_url, self.bus, self.policy, writer=self._writer, janitor=self._janitor
        )
        # the request entries join the SCIM writes' group transactions: one writer, one commit for both
        self.recorder = AuditRecorder(
            self.vault, sources=(self.failures,), writer=self.service.writer, clock=self.clock
        )
        self.recorder.start()
        authenticator = Authenticator(self.tokens, self.throttle)
        app = self._app = ScimApp(
            self.service, authenticator, self.bus, BASE_PATH, self.recorder, self.failures, clock=self.clock
        )
        config = uvicorn.Config(
            app,
            lifespan="off",
            http=guarded_protocol(self.guard),
            ws="none",  # SCIM has no WebSocket; an upgrade must not reach another protocol if one gets installed
            loop=event_loop_name(),
            access_log=False,  # access logs would carry filters, i.e. personal data
            log_config=None,
            server_header=False,
            date_header=True,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            limit_concurrency=self.guard.limits.max_connections,
            proxy_headers=False,  # the source every limit and entry names is the TCP peer, not X-Forwarded-For
            ssl_certfile=str(self.tls.cert_path) if self.tls else None,
            ssl_keyfile=str(self.tls.key_path) if self.tls else None,
        )
        config.load()
        if config.ssl is not None:
            harden(config.ssl)
        uvicorn_log = logging.getLogger("uvicorn.error")
        uvicorn_log.addFilter(self._noise)
        if not uvicorn_log.isEnabledFor(logging.WARNING):
            # The noise filter counts what clients provoke; a logger raised above WARNING (by an embedding
            # program, or another uvicorn in the process started with log_level="error") would hide it from the
            # count. The filter still drops those records, so nothing more is written.
            uvicorn_log.setLevel(logging.WARNING)
        server = self._server = _Server(config)
        server.handshake_timeout = self.guard.limits.handshake_timeout
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="custos-scim-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise ConfigError("The SCIM server did not start.")
            time.sleep(0.01)
        log.info("SCIM server listening on port %s (%s)", self.port, "TLS" if self.tls else "plain HTTP")

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._app is not None:
            self._app.close()
        if self.recorder is not None:  # before the writer stops: the recorder writes through it
            self.recorder.flush()  # the last requests' events reach the trail before the vault closes
        if self.service is not None:
            self.service.close()
        if self._socket is not None:
            self._socket.close()
        logging.getLogger("uvicorn.error").removeFilter(self._noise)
        self._server = None
        self._thread = None
        self._socket = None
        log.info("SCIM server stopped")
