"""TLS material for the endpoint: a self-signed certificate made on first run, or the operator's own."""

from __future__ import annotations

import ipaddress
import os
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.core.errors import ConfigError

CERT_FILENAME = "tls-cert.pem"
KEY_FILENAME = "tls-key.pem"
VALIDITY_DAYS = 825  # the longest lifetime mainstream TLS clients accept for a leaf


@dataclass(frozen=True)
class TlsMaterial:
    cert_path: Path
    key_path: Path

    @property
    def fingerprint(self) -> str:
        return certificate_fingerprint(self.cert_path)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(self.cert_path, self.key_path)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"Cannot load the TLS certificate or key: {exc.__class__.__name__}") from exc
        return context


def certificate_fingerprint(cert_path: Path) -> str:
    """SHA-256 of the DER certificate, as colon-separated hex (the form IdPs and browsers show)."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{cert_path} is not a readable PEM certificate.") from exc
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def ensure_self_signed(data_dir: Path, hostnames: tuple[str, ...] = ("localhost",)) -> TlsMaterial:
    """Reuse the certificate in the data folder, or make one (ECDSA P-256) with the key at mode 0600."""
    material = TlsMaterial(data_dir / CERT_FILENAME, data_dir / KEY_FILENAME)
    if material.cert_path.exists() and material.key_path.exists():
        return material
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Custos SCIM endpoint")])
    alt_names: list[x509.GeneralName] = [x509.DNSName(h) for h in hostnames]
    alt_names += [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1"))]
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=VALIDITY_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(material.key_path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_bytes)
    material.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return material


def operator_material(cert: str, key: str) -> TlsMaterial:
    material = TlsMaterial(Path(cert).expanduser(), Path(key).expanduser())
    for path in (material.cert_path, material.key_path):
        if not path.is_file():
            raise ConfigError(f"TLS file not found: {path}")
    material.server_context()  # fail now, with a readable message, rather than at the first client
    return material
