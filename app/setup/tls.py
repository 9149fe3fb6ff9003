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

# TLS 1.2 suites offered: forward secrecy (ECDHE) and AEAD only (AES-GCM, ChaCha20-Poly1305); no CBC, no RSA key
# exchange, no SHA-1 MACs. TLS 1.3 (whose suites are all AEAD) is preferred by every client that speaks it.
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!MD5:!SHA1:!CBC"
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
        context = harden(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
        try:
            context.load_cert_chain(self.cert_path, self.key_path)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"Cannot load the TLS certificate or key: {exc.__class__.__name__}") from exc
        return context


def harden(context: ssl.SSLContext) -> ssl.SSLContext:
    """TLS 1.2 or later, AEAD suites with forward secrecy only, the server's order of preference."""
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)
    context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    return context


def certificate_fingerprint(cert_path: Path) -> str:
    """SHA-256 of the DER certificate, as colon-separated hex (the form IdPs and browsers show)."""
    try:
        content = cert_path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{cert_path} is not a readable PEM certificate.") from exc
    return summarise(content).fingerprint


def ensure_self_signed(data_dir: Path, hostnames: tuple[str, ...] = ("localhost",)) -> TlsMaterial:
    """Reuse the certificate in the data folder, or make a self-signed one."""
    material = TlsMaterial(data_dir / CERT_FILENAME, data_dir / KEY_FILENAME)
    if material.cert_path.exists() and material.key_path.exists():
        return material
    return generate_self_signed(data_dir, hostnames)


def generate_self_signed(data_dir: Path, hostnames: tuple[str, ...] = ("localhost",)) -> TlsMaterial:
    """A new ECDSA P-256 certificate for ``hostnames`` and loopback, replacing any in the data folder."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Custos SCIM endpoint")])
    alt_names: list[x509.GeneralName] = []
    for host in dict.fromkeys((*hostnames, "localhost")):
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt_names.append(x509.DNSName(host))
    for loopback in ("127.0.0.1", "::1"):
        if loopback not in hostnames:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(loopback)))
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
    return _install(data_dir, cert.public_bytes(serialization.Encoding.PEM), key_bytes)


def _write_private(path: Path, content: bytes) -> None:
    """Write at mode 0600 through a temporary file, so a crash never leaves half a key."""
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    os.replace(temporary, path)


def _install(data_dir: Path, cert_pem: bytes, key_pem: bytes) -> TlsMaterial:
    material = TlsMaterial(data_dir / CERT_FILENAME, data_dir / KEY_FILENAME)
    _write_private(material.key_path, key_pem)
    _write_private(material.cert_path, cert_pem)
    return material


@dataclass(frozen=True)
class CertificateSummary:
    """What an operator checks before using a certificate: never the key."""

    subject: str
    names: tuple[str, ...]
    not_after: datetime
    fingerprint: str
    self_signed: bool

    def covers(self, host: str) -> bool:
        """Whether a client connecting to ``host`` would accept the names (one-label wildcards included)."""
        host = host.lower().rstrip(".")
        for name in self.names:
            name = name.lower()
            if name == host:
                return True
            if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
                return True
        return False


def summarise(cert_pem: bytes) -> CertificateSummary:
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError as exc:
        raise ConfigError("The certificate file is not a PEM certificate.") from exc
    try:
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = tuple(str(v) for v in alt.get_values_for_type(x509.DNSName)) + tuple(
            str(v) for v in alt.get_values_for_type(x509.IPAddress)
        )
    except x509.ExtensionNotFound:
        names = ()
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return CertificateSummary(
        subject=cert.subject.rfc4514_string(),
        names=names,
        not_after=cert.not_valid_after_utc,
        fingerprint=":".join(digest[i : i + 2] for i in range(0, len(digest), 2)),
        self_signed=cert.issuer == cert.subject,
    )


def check_operator_certificate(cert: Path, key: Path) -> CertificateSummary:
    """Refuse, with a reason an operator can act on, a pair the endpoint could not serve."""
    for path in (cert, key):
        if not path.is_file():
            raise ConfigError(f"File not found: {path}")
    summary = summarise(cert.read_bytes())
    if summary.not_after <= datetime.now(UTC):
        raise ConfigError(f"The certificate expired on {summary.not_after:%Y-%m-%d}; use a current one.")
    try:
        TlsMaterial(cert, key).server_context()
    except ConfigError as exc:
        raise ConfigError(
            "The key does not match the certificate, or it is protected by a passphrase (give an unencrypted "
            "PEM key, readable only by you)."
        ) from exc
    return summary


def install_operator_certificate(data_dir: Path, cert: Path, key: Path) -> TlsMaterial:
    """Copy an operator's certificate and key into the data folder (key at mode 0600), checked first."""
    check_operator_certificate(cert, key)
    return _install(data_dir, cert.read_bytes(), key.read_bytes())


def operator_material(cert: str, key: str) -> TlsMaterial:
    material = TlsMaterial(Path(cert).expanduser(), Path(key).expanduser())
    for path in (material.cert_path, material.key_path):
        if not path.is_file():
            raise ConfigError(f"TLS file not found: {path}")
    material.server_context()  # fail now, with a readable message, rather than at the first client
    return material
