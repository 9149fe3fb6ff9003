"""Headless mode: unlock the vault and serve SCIM until SIGINT/SIGTERM. Never imports Qt."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.errors import ConfigError
from app.services.vault import open_or_create_vault

if TYPE_CHECKING:
    from app.setup.tls import TlsMaterial
    from app.siem.syslog import Collector

log = logging.getLogger(__name__)


def resolve_tls(data_dir: Path, cert: str | None, key: str | None, no_tls: bool) -> TlsMaterial | None:
    from app.setup.tls import ensure_self_signed, operator_material

    if no_tls:
        if cert or key:
            raise ConfigError("--no-tls cannot be combined with --tls-cert/--tls-key.")
        return None
    if bool(cert) != bool(key):
        raise ConfigError("Give both --tls-cert and --tls-key, or neither.")
    material = operator_material(cert, key) if cert and key else ensure_self_signed(data_dir)
    _warn_if_expiring(material.cert_path)
    return material


def _warn_if_expiring(cert_path: Path) -> None:
    """Said at start, before any IdP fails: an expired certificate is refused by every identity provider, and one
    near its end will be (the alerts and the app say it too, decision 0058)."""
    from datetime import UTC, datetime

    from app.setup.certificate_expiry import read_expiry

    found = read_expiry(cert_path, datetime.now(UTC))
    if found is not None and found.marker is not None:
        log.warning("the TLS certificate %s. %s", found.describe(), found.advice())


def siem_collector(
    target: str | None, fingerprint: str | None, ca_file: str | None, fmt: str = "cef"
) -> Collector | None:
    """``--siem HOST:PORT`` as a collector (port 6514, RFC 5425's, when omitted), its MSG in ``fmt`` (CEF or OCSF:
    serve could only send CEF, so an OCSF pipeline had to run `siem send` beside it)."""
    from app.siem.syslog import Collector, check_trust

    if not target:
        if fingerprint or ca_file:
            raise ConfigError("--siem-fingerprint and --siem-ca need --siem HOST:PORT.")
        return None
    host, _, port = target.rpartition(":") if ":" in target else (target, "", "6514")
    if not host or not port.isdigit():
        raise ConfigError("--siem takes HOST:PORT, e.g. siem.example.org:6514.")
    collector = Collector(host, int(port), fingerprint, ca_file, fmt)
    try:
        check_trust(collector)
    except ValueError as exc:
        raise ConfigError(f"--siem: {exc}.") from exc
    return collector


def serve(
    data_dir: Path,
    host: str | None,
    port: int | None,
    cert: str | None,
    key: str | None,
    no_tls: bool,
    siem: Collector | None = None,
) -> int:
    from app.runtime import Runtime
    from app.setup import endpoint  # tomlkit: serve reads endpoint.toml; the commands that open the vault do not

    saved = endpoint.load(data_dir)  # what `custos init` or the app's first run chose
    listen_host = saved.host if host is None else host
    public_host = saved.public_host if listen_host == saved.host else None
    tls = resolve_tls(data_dir, cert, key, no_tls)
    vault = open_or_create_vault(data_dir)
    try:
        runtime = Runtime(
            vault,
            host=listen_host,
            port=saved.port if port is None else port,
            public_host=public_host,
            tls=tls,
            siem=siem,
        )
    except BaseException:
        vault.close()
        raise
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        runtime.start()
        server = runtime.server
        fingerprint = server.fingerprint or "none: plain HTTP"
        print(f"SCIM endpoint: {server.base_url} (TLS SHA-256 {fingerprint})", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        runtime.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("Stopped.", flush=True)
    return 0
