"""One socket write per response instead of two; and the limits on a connection before it is a request.

uvicorn writes the status line and headers, then the body, as two transport writes. With TCP_NODELAY (which
we need, see server.py) each becomes its own TLS record and syscall; on loopback that was a quarter of the
server's time per GET. This protocol wraps the transport so that writes made in one event-loop step are
joined and sent together at the end of the step. Ordering and flow control are unchanged.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.directory.errors import ERROR_SCHEMA as SCIM_ERROR
from app.scim.sources import source_key


class CoalescingTransport:
    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._pending.append(bytes(data))
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn's own
        super().connection_made(transport)
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]  # a proxy, by __getattr__


@dataclass(frozen=True)
class ConnectionLimits:
    """What one connection may cost before the application sees a request (issue 11 §5)."""

    header_timeout: float = 5.0  # from the connection (or a request's first byte) to the end of its headers
    max_header_bytes: int = 32 * 1024  # request line and headers together; more is answered 431
    per_source: int = 32  # open connections per source address (IPv6: per /64)
    handshake_timeout: float = 5.0  # TLS handshake (asyncio's default is 60 s)
    max_connections: int = 256  # in all; uvicorn answers 503 beyond this many connections or requests in progress


@dataclass
class ConnectionGuard:
    """Shared by every connection of one server: open connections per source, and counts of what was refused."""

    limits: ConnectionLimits = field(default_factory=ConnectionLimits)
    refused: Counter[str] = field(default_factory=Counter)  # "over_cap" | "header_timeout" | "header_too_large"
    _open: Counter[str] = field(default_factory=Counter)

    def admit(self, source: str) -> bool:
        """Take a connection slot for ``source``; False when it already holds ``per_source`` (event loop only)."""
        if self._open[source] >= self.limits.per_source:
            self.refused["over_cap"] += 1
            return False
        self._open[source] += 1
        return True

    def release(self, source: str) -> None:
        self._open[source] -= 1
        if self._open[source] <= 0:
            del self._open[source]

    def open_connections(self, source: str) -> int:
        return self._open.get(source, 0)


# uvicorn's warnings that any client can cause at will, once per request: not written (issue 11 §4), counted.
_CLIENT_NOISE = {
    "Invalid HTTP request received.": "malformed",
    "Unsupported upgrade request.": "upgrade",
    "Exceeded concurrency limit.": "over_capacity",
}
# uvicorn follows "Unsupported upgrade request." with advice to install a WebSocket library whenever none is (and
# SCIM needs none): a second line per `Upgrade:` request, already counted as "upgrade" by the line before it.
_CLIENT_NOISE_ALSO = ("No supported WebSocket library detected.",)


class ClientNoiseFilter(logging.Filter):
    """Drops uvicorn's per-request warnings about what a client sent, counting them in the guard instead."""

    def __init__(self, guard: ConnectionGuard) -> None:
        super().__init__()
        self.guard = guard

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        reason = _CLIENT_NOISE.get(message)
        if reason is None:
            return not message.startswith(_CLIENT_NOISE_ALSO)
        self.guard.refused[reason] += 1
        return False


def _error_response(status: bytes, detail: str, extra: bytes = b"") -> bytes:
    """A refusal written before any request reaches the application, as a SCIM error (RFC 7644 §3.12) like every
    other answer: an IdP that parses error bodies got plain text here (431, 408, 503) and logged "not JSON"."""
    body = json.dumps({"schemas": [SCIM_ERROR], "status": status.split(b" ", 1)[0].decode(), "detail": detail},
                      separators=(",", ":")).encode()  # fmt: skip
    return (b"HTTP/1.1 " + status + b"\r\ncontent-type: application/scim+json\r\ncontent-length: "
            + str(len(body)).encode() + b"\r\nconnection: close\r\n" + extra + b"\r\n" + body)  # fmt: skip


class GuardedHttpToolsProtocol(CoalescingHttpToolsProtocol):
    """Bounds what a client without a complete request can hold: a slot per source, time and bytes for headers.

    uvicorn reads headers without a size limit or a deadline; a connection that never finishes its headers is
    held until the client goes away, and a 64 MiB header is buffered whole. ``guard`` is set on a subclass made
    per server (:func:`guarded_protocol`).
    """

    guard: ConnectionGuard

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn's own
        super().connection_made(transport)
        self._source = source_key(self.client[0] if self.client else None)
        self._admitted = self.guard.admit(self._source)
        self._in_headers = True
        self._header_bytes = 0
        self._header_sections = 0  # header sections completed on this connection
        self._message_done = True
        self._header_timer: asyncio.TimerHandle | None = None
        if not self._admitted:
            self._refuse(b"503 Service Unavailable", "Too many connections from this address.", b"retry-after: 5\r\n")
            return
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if getattr(self, "_admitted", False):
            self._admitted = False
            self.guard.release(self._source)
        self._disarm_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._in_headers or self.transport.is_closing():
            if not self.transport.is_closing():
                super().data_received(data)
            return
        # Feed at most what the limit leaves; the parser buffers a header it has not finished, so the bytes must
        # be counted before it sees them. Pipelined requests may end and begin within one read: a header section
        # that began inside ``head`` is counted from ``rest`` on, so no section exceeds twice the limit.
        room = self.guard.limits.max_header_bytes - self._header_bytes
        head, rest = (data, b"") if len(data) <= room else (data[:room], data[room:])
        self._header_bytes += len(head)
        sections = self._header_sections
        super().data_received(head)
        if self.transport.is_closing():
            return
        if rest:
            if self._in_headers and sections == self._header_sections:  # the limit is reached within one section
                self.guard.refused["header_too_large"] += 1
                self._refuse(b"431 Request Header Fields Too Large", "The request headers are too large.")
                return
            self.data_received(rest)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        self._message_done = False
        if self._header_timer is None:
            self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._header_bytes = 0
        self._header_sections += 1
        self._disarm_header_timer()
        previous = self.cycle
        super().on_headers_complete()
        if self.cycle is not None and self.cycle is not previous:
            self._close_if_answered_early(self.cycle)

    @staticmethod
    def _close_if_answered_early(cycle: Any) -> None:
        """When ``cycle`` is answered before its body was received (a 401, a 413, a 415, a 408), say so and close.

        The rest of that body is never read; uvicorn would discard it for as long as the client kept sending.
        The answer carries ``Connection: close`` (RFC 9112 §9.6) and the connection closes after it: a close that
        was not announced made a keep-alive client (httpx) send its next request into a closing connection and
        get no answer at all. Pipelined requests have a cycle each, so this looks at the one answered.
        """
        send = cycle.send

        async def send_then_close(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and cycle.more_body:
                cycle.keep_alive = False  # uvicorn writes `connection: close` and closes once the answer is sent
            await send(message)

        cycle.send = send_then_close

    def on_message_complete(self) -> None:
        self._message_done = True
        self._in_headers = True  # what follows on this connection is the next request's headers
        super().on_message_complete()

    def _arm_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(self.guard.limits.header_timeout, self._header_timeout)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        if self._in_headers and not self._message_done and not self.transport.is_closing():
            self.guard.refused["header_timeout"] += 1
            self._refuse(b"408 Request Timeout", "The request headers were not received in time.")
        elif self._in_headers and self._message_done and self.cycle is None and not self.transport.is_closing():
            self.transport.close()  # connected but sent nothing at all within the header timeout

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to what its parser cannot read (smuggling attempts: Content-Length with
        Transfer-Encoding, duplicate lengths, bad chunk sizes, obs-folded headers, bare LF) was plain text,
        "Invalid HTTP request received."; an IdP parsing SCIM error bodies got "not JSON". Now a SCIM error."""
        self._refuse(b"400 Bad Request", "The request is not valid HTTP/1.1; it was not read.")

    def _refuse(self, status: bytes, detail: str, extra: bytes = b"") -> None:
        self._in_headers = False
        self.transport.write(_error_response(status, detail, extra))
        self.transport.close()
        # A refused connection no longer counts towards uvicorn's limit_concurrency: its TLS close may wait for
        # the client's close_notify (up to the shutdown timeout), and a source over its cap must not fill the
        # server for everyone else meanwhile. The per-source cap is what bounds these, not the global limit.
        self.connections.discard(self)


def guarded_protocol(guard: ConnectionGuard) -> type[GuardedHttpToolsProtocol]:
    """The protocol class uvicorn instantiates per connection, bound to one server's guard."""
    return type("CustosHttpProtocol", (GuardedHttpToolsProtocol,), {"guard": guard})
