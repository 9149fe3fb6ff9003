"""Moving the endpoint after the first run: the server answers at the new address with the new certificate,
the trail records it, and a refused change leaves both files as they were."""

from __future__ import annotations

import hashlib
import socket
import ssl
from pathlib import Path

import pytest

from app.audit.trail import of_kind
from app.core.errors import ConfigError
from app.core.events import EventBus
from app.scim.server import ScimServer
from app.setup import endpoint
from app.setup.endpoint import EndpointSettings
from app.setup.first_run import GeneratedCertificate, OperatorCertificate
from app.setup.relocate import relocate
from app.setup.tls import CERT_FILENAME, ensure_self_signed
from app.store.vault import Vault
from tests.setup.cert_support import write_pair


def served_fingerprint(port: int) -> str:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port)) as raw, context.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def test_the_server_moves_with_a_new_certificate(vault: Vault, data_dir: Path) -> None:
    server = ScimServer(vault, port=0, tls=ensure_self_signed(data_dir), bus=EventBus())
    server.start()
    old = served_fingerprint(server.port)
    server.stop()
    moved = relocate(vault, data_dir, EndpointSettings("127.0.0.1", 0), GeneratedCertificate(("custos.lan",)))
    assert moved.certificate_changed and moved.fingerprint != old
    server.relocate(moved.settings.host, moved.settings.port, moved.settings.public_host, moved.tls)
    server.start()
    try:
        assert served_fingerprint(server.port) == moved.fingerprint
        with pytest.raises(ConfigError, match="Stop the endpoint"):
            server.relocate("127.0.0.1", 0, None, moved.tls)
    finally:
        server.stop()
    assert endpoint.load(data_dir) == EndpointSettings("127.0.0.1", 0)
    with vault.read_connection() as conn:
        [event] = of_kind(conn, "endpoint.configured")
    assert event.details["certificate_sha256"] == moved.fingerprint and event.details["certificate_changed"]


def test_a_refused_change_keeps_both_files(vault: Vault, data_dir: Path, tmp_path: Path) -> None:
    ensure_self_signed(data_dir)
    endpoint.save(data_dir, EndpointSettings("127.0.0.1", 8443))
    before = {p.name: p.read_bytes() for p in data_dir.iterdir() if p.suffix in (".pem", ".toml")}
    cert, _key = write_pair(tmp_path / "a")
    _cert, wrong = write_pair(tmp_path / "b")
    with pytest.raises(ConfigError, match="does not match"):
        relocate(vault, data_dir, EndpointSettings("127.0.0.1", 9443), OperatorCertificate(cert, wrong))
    with pytest.raises(ConfigError, match="host name"):
        relocate(vault, data_dir, EndpointSettings("0.0.0.0", 9443), None)
    after = {p.name: p.read_bytes() for p in data_dir.iterdir() if p.suffix in (".pem", ".toml")}
    assert after == before and CERT_FILENAME in after
    with vault.read_connection() as conn:
        assert of_kind(conn, "endpoint.configured") == []
