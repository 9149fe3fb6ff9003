"""RFC 5424 messages, RFC 5425 octet-counting frames, and a TLS 1.2+ connection to a collector (pinned or CA).

One audit entry is one syslog message: the header says when, from which host and what kind of entry (MSGID);
the structured data ``[custos@32473 seq=… chain=… kind=…]`` lets a collector drop duplicates by seq and match
the copy to the local hash chain; the MSG is the CEF line or the OCSF JSON record.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import select
import socket
import ssl
import struct
import sys
import time
from dataclasses import dataclass

from app.audit.trail import StoredEvent
from app.siem.cef import to_cef
from app.siem.lines import json_line
from app.siem.mapping import describe
from app.siem.ocsf import to_ocsf

FACILITY = 13  # log audit
SD_ID = "custos@32473"  # the RFC's example enterprise number; replace with your own IANA PEN in production
APP_NAME = "custos"
BOM = "\ufeff"
FORMATS = ("cef", "ocsf")
_NOT_PRINTABLE = re.compile(r"[^\x21-\x7e]")  # header fields are PRINTUSASCII, no spaces


def escape_param(value: str) -> str:
    """RFC 5424 §6.3.3: inside PARAM-VALUE, '"', '\\' and ']' are escaped with a backslash."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _header_field(value: str, limit: int) -> str:
    cleaned = _NOT_PRINTABLE.sub("_", value)[:limit]
    return cleaned or "-"  # NILVALUE


def syslog_severity(cef_severity: int) -> int:
    """CEF 0-10 to syslog severity (2 critical … 6 informational)."""
    for floor, value in ((9, 2), (7, 3), (5, 4), (3, 5)):
        if cef_severity >= floor:
            return value
    return 6


def body(event: StoredEvent, fmt: str = "cef") -> str:
    """The MSG part: a CEF line, or one OCSF/ECS JSON record."""
    if fmt == "ocsf":
        return json_line(to_ocsf(event), sort_keys=True, separators=(",", ":"))
    if fmt == "cef":
        return to_cef(event)
    raise ValueError(f"unknown SIEM format {fmt!r}; use one of {', '.join(FORMATS)}")


def message(event: StoredEvent, hostname: str | None = None, procid: str | None = None, fmt: str = "cef") -> str:
    """One RFC 5424 SYSLOG-MSG. The MSG starts with a BOM only when it is not plain ASCII (RFC 5424 §6.4:
    MSG-UTF8 is announced by the BOM; collectors that parse CEF at the start of MSG see no BOM on ASCII lines)."""
    m = describe(event)
    pri = FACILITY * 8 + syslog_severity(m.severity)
    host = _header_field(hostname or socket.gethostname(), 255)
    proc = _header_field(procid if procid is not None else str(os.getpid()), 128)
    msgid = _header_field(m.signature, 32)
    sd = f'[{SD_ID} seq="{event.seq}" chain="{escape_param(event.chain_hash)}" kind="{escape_param(event.kind)}"]'
    msg = body(event, fmt)
    if not msg.isascii():
        msg = BOM + msg
    return f"<{pri}>1 {event.at} {host} {APP_NAME} {proc} {msgid} {sd} {msg}"


def frame(text: str) -> bytes:
    """RFC 5425 §4.3: MSG-LEN SP SYSLOG-MSG, the length counted in octets of the UTF-8 message."""
    payload = text.encode("utf-8")
    return str(len(payload)).encode() + b" " + payload


@dataclass(frozen=True)
class Collector:
    host: str
    port: int = 6514  # RFC 5425's
    fingerprint: str | None = None  # SHA-256 of the collector's certificate (pinning, no PKI needed)
    ca_file: str | None = None
    format: str = "cef"  # the MSG: "cef" or "ocsf"

    @property
    def name(self) -> str:
        """The destination's key for its delivery cursor."""
        return f"{self.host}:{self.port}"

    def pin(self) -> bytes | None:
        """The fingerprint as bytes; accepts hex with or without colons, optionally prefixed "sha256:"."""
        if not self.fingerprint:
            return None
        text = self.fingerprint.strip().lower().removeprefix("sha256:").replace(":", "").replace(" ", "")
        if not re.fullmatch(r"[0-9a-f]{64}", text):
            raise ValueError("the collector fingerprint must be a SHA-256 in hex (64 digits, colons allowed)")
        return bytes.fromhex(text)


def check_trust(collector: Collector) -> None:
    """Raise ValueError, saying what to correct, when the collector's fingerprint or CA file cannot be used: checked
    before anything starts, or ``serve`` ran with its forwarder retrying a typo for ever (a warning a minute in its
    log, never an entry at the collector)."""
    collector.pin()
    if collector.ca_file is None:
        return
    try:
        tls_context(collector)
    except FileNotFoundError as exc:
        raise ValueError(f"the CA file {collector.ca_file} does not exist") from exc
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"the CA file {collector.ca_file} cannot be read as PEM certificates") from exc


class PinMismatch(ssl.SSLError):
    """The collector's certificate is not the pinned one: nothing was sent."""


def failure_reason(exc: BaseException) -> str:
    """Why a collector could not be reached, for its operator: the error's type, then what it means.

    The type alone ("SSLCertVerificationError") left a SOC engineer to guess between a wrong CA, a host name the
    certificate does not name and an expired certificate. OpenSSL's verification message names the certificate's
    fault and the collector's host as given; neither holds personal data or a secret.
    """
    name = type(exc).__name__
    if isinstance(exc, PinMismatch):
        return f"{name} (the collector's certificate is not the one pinned with the fingerprint; nothing was sent)"
    if isinstance(exc, ssl.SSLCertVerificationError):
        why = (exc.verify_message or exc.reason or "no reason given").rstrip(".")
        return f"{name} (the collector's certificate was refused: {why}; nothing was sent)"
    if isinstance(exc, ssl.SSLError):
        return f"{name} (the TLS handshake failed: {exc.reason or 'no reason given'}; is the collector speaking TLS?)"
    if isinstance(exc, ConnectionRefusedError):
        return f"{name} (nothing is listening on that port)"
    if isinstance(exc, socket.gaierror):
        return f"{name} (the host name does not resolve)"
    if isinstance(exc, TimeoutError):
        return f"{name} (no answer in time)"
    return name


def tls_context(collector: Collector) -> ssl.SSLContext:
    """TLS 1.2+ with the default (AEAD-first) suites, as RFC 9662 asks; CA path validation unless pinned."""
    context = (
        ssl.create_default_context(cafile=collector.ca_file) if collector.ca_file else ssl.create_default_context()
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if collector.fingerprint and not collector.ca_file:
        # The pin replaces path validation (RFC 5425 §5.2 fingerprints); it is checked before the first byte.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def connect(collector: Collector, timeout: float = 10.0) -> ssl.SSLSocket:
    """A TLS connection; with a fingerprint the certificate must match it before anything is sent."""
    pin = collector.pin()
    context = tls_context(collector)
    raw = socket.create_connection((collector.host, collector.port), timeout=timeout)
    try:
        tls = context.wrap_socket(raw, server_hostname=collector.host)
    except BaseException:
        raw.close()
        raise
    if pin is not None:
        der = tls.getpeercert(binary_form=True) or b""
        if not hmac.compare_digest(hashlib.sha256(der).digest(), pin):
            tls.close()
            raise PinMismatch("the collector's certificate does not match the pinned fingerprint")
    return tls


def peer_closed(tls: ssl.SSLSocket) -> bool:
    """True when the collector has closed the connection (or reset it)."""
    return peer_state(tls) != "open"


def peer_state(tls: ssl.SSLSocket) -> str:
    """The connection as the collector left it: "open", "closed" (it closed after reading all it had been sent)
    or "reset".

    TCP accepts writes to a half-closed connection without error, so this is checked before each batch;
    otherwise a batch written after the collector went away would count as delivered. A readable socket is
    not enough: TLS 1.3 servers send session tickets after the handshake, so the records are read to see.
    A collector that closes with data still unread in its socket buffer answers with a reset, not an end of
    stream (RFC 1122 §4.2.2.13): then what it had been sent lately may never have reached it.
    """
    try:
        readable, _, _ = select.select([tls], [], [], 0)
    except (OSError, ValueError):
        return "reset"
    if not readable:
        return "open"
    if was_reset(tls):  # TLS reads a reset as an end of stream: the socket's own state tells them apart
        return "reset"
    timeout = tls.gettimeout()
    tls.setblocking(False)
    try:
        return "closed" if tls.recv(4096) == b"" else "open"  # anything else a collector would say is ignored
    except (ssl.SSLWantReadError, BlockingIOError):
        return "open"  # only handshake records (tickets): still open
    except OSError:
        return "reset"
    finally:
        tls.settimeout(timeout)


_TCP_ESTABLISHED, _TCP_CLOSE_WAIT = 1, 8  # tcp_states.h


def can_confirm_delivery() -> bool:
    """Whether this system lets us see the collector's TCP acknowledgements (SIOCOUTQ, TCP_INFO: Linux only).
    Elsewhere a batch is only known to be sent (in this computer's send buffer), never confirmed received."""
    return sys.platform == "linux"


def unacknowledged(sock: socket.socket) -> int | None:
    """Bytes written to ``sock`` that the collector's TCP has not acknowledged yet (Linux's SIOCOUTQ); None where
    the system cannot tell."""
    if not can_confirm_delivery():
        return None
    import fcntl
    import termios

    try:  # SIOCOUTQ is TIOCOUTQ on Linux
        return int(struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0])
    except OSError:
        return None


def was_reset(sock: socket.socket) -> bool:
    """Whether the collector reset the connection (Linux: the socket's error, or TCP state CLOSE; a collector that
    closed cleanly leaves it in CLOSE_WAIT). False where the system cannot tell."""
    if not can_confirm_delivery():
        return False
    try:
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            return True
        return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] not in (_TCP_ESTABLISHED, _TCP_CLOSE_WAIT)
    except OSError:
        return True


def wait_acknowledged(sock: socket.socket, timeout: float) -> bool:
    """True once the collector's TCP has acknowledged every byte written; raise OSError if the connection was
    reset meanwhile, or TimeoutError after ``timeout`` seconds.

    ``sendall`` returns when the bytes are in this computer's send buffer, which holds megabytes: a collector that
    dies or hangs then (its host down, the network cut) never gets them. Only what its TCP acknowledged reached it.
    Where the system cannot tell (not Linux), this returns False at once: sent, not confirmed. It returned as if
    acknowledged, and the commands then said "Forwarded" and "DELIVERED-UP-TO" of bytes possibly still buffered here.
    """
    deadline = time.monotonic() + timeout
    delay = 0.0005
    while True:
        pending = unacknowledged(sock)
        if pending is None:
            return False
        if was_reset(sock):  # a reset empties the queue too: checked before taking 0 for "all acknowledged"
            raise ConnectionResetError("the collector reset the connection")
        if pending == 0:
            return True
        if time.monotonic() >= deadline:
            raise TimeoutError(f"the collector acknowledged nothing of the last {pending} octets in {timeout:.0f} s")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
