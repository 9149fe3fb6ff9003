"""RFC 5424 messages, RFC 5425 octet-counting frames, and a TLS connection to a collector (fingerprint-pinned)."""

from __future__ import annotations

import hashlib
import socket
import ssl
from dataclasses import dataclass

from app.audit.trail import StoredEvent
from app.siem.cef import to_cef
from app.siem.mapping import mapping_for

FACILITY = 13  # log audit
SD_ID = "custos@32473"  # RFC 5612 example PEN; replace with your own enterprise number in production
APP_NAME = "custos"


def escape_param(value: str) -> str:
    """RFC 5424 §6.3.3: inside PARAM-VALUE, '"', '\\' and ']' are escaped with a backslash."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _severity(cef_severity: int) -> int:
    """CEF 0-10 to syslog severity (0 emergency … 7 debug)."""
    if cef_severity >= 9:
        return 2
    if cef_severity >= 7:
        return 3
    if cef_severity >= 5:
        return 4
    if cef_severity >= 3:
        return 5
    return 6


def message(event: StoredEvent, hostname: str | None = None, procid: str = "-") -> str:
    m = mapping_for(event.kind)
    pri = FACILITY * 8 + _severity(m.severity)
    host = (hostname or socket.gethostname() or "-")[:255]
    msgid = m.signature.replace(" ", "_")[:32] or "-"
    sd = f'[{SD_ID} seq="{event.seq}" chain="{escape_param(event.chain_hash)}" kind="{escape_param(event.kind)}"]'
    return f"<{pri}>1 {event.at} {host} {APP_NAME} {procid} {msgid} {sd} {to_cef(event)}"


def frame(text: str) -> bytes:
    """RFC 5425 §4.3: MSG-LEN SP SYSLOG-MSG, the length counted in octets of the UTF-8 message."""
    payload = text.encode("utf-8")
    return str(len(payload)).encode() + b" " + payload


@dataclass(frozen=True)
class Collector:
    host: str
    port: int = 6514
    fingerprint: str | None = None  # SHA-256 of the collector's certificate (pinning, no PKI needed)
    ca_file: str | None = None

    @property
    def name(self) -> str:
        return f"{self.host}:{self.port}"


class PinMismatch(ssl.SSLError):
    pass


def connect(collector: Collector, timeout: float = 10.0) -> ssl.SSLSocket:
    """A TLS 1.2+ connection; with a fingerprint the certificate must match it before anything is sent."""
    context = (
        ssl.create_default_context(cafile=collector.ca_file) if collector.ca_file else ssl.create_default_context()
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if collector.fingerprint:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection((collector.host, collector.port), timeout=timeout)
    try:
        tls = context.wrap_socket(raw, server_hostname=collector.host)
    except BaseException:
        raw.close()
        raise
    if collector.fingerprint:
        der = tls.getpeercert(binary_form=True) or b""
        if hashlib.sha256(der).hexdigest() != collector.fingerprint.replace(":", "").lower():
            tls.close()
            raise PinMismatch("the collector's certificate does not match the pinned fingerprint")
    return tls
