"""Changing the endpoint's address or certificate after the first run, on the record.

The IdP keeps calling the old address until someone updates it, so the change is written only when the new
pair is usable (checked first), both files are replaced together or not at all, and the audit trail says who
moved the endpoint where — the evidence an incident responder needs when provisioning suddenly stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from app.audit.trail import Event, append
from app.core.actor import current_actor
from app.setup import endpoint
from app.setup.endpoint import EndpointSettings
from app.setup.first_run import GeneratedCertificate, OperatorCertificate, Undo
from app.setup.tls import (
    CERT_FILENAME,
    KEY_FILENAME,
    TlsMaterial,
    certificate_fingerprint,
    check_operator_certificate,
    generate_self_signed,
    install_operator_certificate,
)
from app.store.vault import Vault


class MovableEndpoint(Protocol):
    """What moving needs of the running endpoint (app/scim/server.py's ScimServer): setup sits below the SCIM
    adapter, which reads its settings from here, so it names the behaviour rather than importing the server."""

    @property
    def running(self) -> bool: ...

    vault: Vault

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def relocate(self, host: str, port: int, public_host: str | None, tls: TlsMaterial | None) -> None: ...


@dataclass(frozen=True)
class Relocated:
    settings: EndpointSettings
    tls: TlsMaterial
    fingerprint: str
    certificate_changed: bool


def relocate(
    vault: Vault,
    data_dir: Path,
    settings: EndpointSettings,
    certificate: GeneratedCertificate | OperatorCertificate | None,
) -> Relocated:
    """Save the new address and, when given, a new certificate; ``None`` keeps the certificate in use."""
    settings = settings.checked()
    if isinstance(certificate, OperatorCertificate):
        check_operator_certificate(certificate.cert, certificate.key)
    elif isinstance(certificate, GeneratedCertificate):
        for name in certificate.hostnames:
            endpoint.check_host_name(name)
    undo = Undo(data_dir, (CERT_FILENAME, KEY_FILENAME, endpoint.ENDPOINT_FILENAME))
    try:
        if isinstance(certificate, OperatorCertificate):
            tls = install_operator_certificate(data_dir, certificate.cert, certificate.key)
        elif isinstance(certificate, GeneratedCertificate):
            tls = generate_self_signed(data_dir, certificate.hostnames)
        else:
            tls = TlsMaterial(data_dir / CERT_FILENAME, data_dir / KEY_FILENAME)
        fingerprint = certificate_fingerprint(tls.cert_path)
        endpoint.save(data_dir, settings)
        with vault.write_transaction() as conn:
            details = {
                "host": settings.host,
                "port": settings.port,
                "public_host": settings.public_host,
                "certificate_sha256": fingerprint,
                "certificate_changed": certificate is not None,
            }
            append(conn, Event("endpoint.configured", current_actor.get(), details=details))
    except BaseException:
        undo.restore()
        raise
    return Relocated(settings, tls, fingerprint, certificate is not None)


def move_server(
    server: MovableEndpoint,
    data_dir: Path,
    settings: EndpointSettings,
    certificate: GeneratedCertificate | OperatorCertificate | None,
) -> Relocated:
    """Stop the endpoint, move it, and start it again if it was running; a refused move restarts it unchanged."""
    was_running = server.running
    server.stop()
    try:
        moved = relocate(server.vault, data_dir, settings, certificate)
        server.relocate(moved.settings.host, moved.settings.port, moved.settings.public_host, moved.tls)
    finally:
        if was_running:
            server.start()
    return moved
