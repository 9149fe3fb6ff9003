"""Setting Custos up, behind ``custos init``, the first-run assistant, the endpoint dialog and the app's start:
the first run as one undoable operation (vault, certificate, policy, first token, endpoint address), the endpoint
address saved in ``endpoint.toml`` and moved while running, the TLS material, and what an identity provider needs
to reach the endpoint.

The use cases are app/setup's Qt-free modules (``first_run.complete`` writes every file or none; ``relocate``
moves the running endpoint, both files replaced together or not at all). This module is the one door the front
ends use, so that moving TLS material into app/setup (issue 15 §1) changes the import lines here only.
"""

from __future__ import annotations

from pathlib import Path

from app.setup import endpoint
from app.setup.endpoint import (
    ALL_INTERFACES,
    DEFAULT_HOST,
    DEFAULT_PORT,
    EndpointSettings,
    check_port_free,
    machine_name,
    pick_free_port,
)
from app.setup.first_run import (
    DEFAULT_TOKEN_NAME,
    STEPS,
    FirstRunChoices,
    FirstRunResult,
    GeneratedCertificate,
    OperatorCertificate,
    SetupCancelled,
    complete,
    policy_to_install,
)
from app.setup.idp_mappings import lists_every_default, refused_default_mappings
from app.setup.idp_reach import PUBLIC, obstacles, reach, route_problem, routes
from app.setup.relocate import Relocated, move_server
from app.setup.tls import CertificateSummary, TlsMaterial, check_operator_certificate, ensure_self_signed

__all__ = ["ALL_INTERFACES", "DEFAULT_HOST", "DEFAULT_PORT", "DEFAULT_TOKEN_NAME", "PUBLIC", "STEPS",
           "CertificateSummary", "EndpointSettings", "FirstRunChoices", "FirstRunResult", "GeneratedCertificate",
           "OperatorCertificate", "Relocated", "SetupCancelled", "TlsMaterial", "check_operator_certificate",
           "check_port_free", "complete", "endpoint_address", "lists_every_default", "machine_name", "move_server",
           "obstacles", "pick_free_port", "policy_to_install", "reach", "refused_default_mappings", "route_problem",
           "routes", "self_signed_tls"]  # fmt: skip


def endpoint_address(data_dir: Path) -> EndpointSettings:
    """Where the endpoint listens, as saved by the first run or the endpoint dialog (defaults when never saved;
    ConfigError for an ``endpoint.toml`` that cannot be read)."""
    return endpoint.load(data_dir)


def self_signed_tls(data_dir: Path) -> TlsMaterial:
    """The endpoint's self-signed certificate and key, made on first use and kept in the data folder."""
    return ensure_self_signed(data_dir)
