"""Warnings before the SCIM endpoint's TLS certificate expires, and once it has (decision 0058).

Identity providers refuse an expired certificate: from that moment no change arrives, leavers included, and
nothing on Custos' side errors. The certificate Custos makes lasts 825 days, long enough to be forgotten; an
operator's own (a public CA's, often 90 days) runs out sooner. The levels follow the practice of certificate
tooling: 30 days before, 7 days before, and once expired.

Each level is an ``alert.raised`` entry on the trail (rule ``certificate_expiry``: the certificate's SHA-256
fingerprint, its expiry, the hours left; app/setup/expiry.py), raised once per certificate and level; a new
certificate starts again. Only the certificate the endpoint serves is watched (read from its file at each check,
so one replaced on disk is seen).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.audit.trail import iso_utc
from app.core.errors import ConfigError
from app.core.periodic import PeriodicJob
from app.setup import expiry
from app.setup.tls import summarise
from app.store.vault import Vault

RULE = "certificate_expiry"
LEVELS = expiry.Levels((("expired", timedelta(0)), ("7d", timedelta(days=7)), ("30d", timedelta(days=30))))
DEFAULT_INTERVAL_SECONDS = 3600.0


@dataclass(frozen=True)
class CertificateExpiry:
    fingerprint: str  # SHA-256, colon-separated as the endpoint panel and IdPs show it
    not_after: datetime
    left: timedelta  # negative once expired
    self_signed: bool

    @property
    def marker(self) -> str | None:
        """The warning level reached, or None with more than 30 days left."""
        return LEVELS.marker(self.left)

    @property
    def rank(self) -> int:
        return LEVELS.rank(self.marker) if self.marker else 0

    def describe(self) -> str:
        return expiry.describe(self.left, self.not_after)

    def advice(self) -> str:
        """What renews it, for the one who runs Custos."""
        if self.self_signed:
            return ("Make a new one (in the app: Vault → SCIM endpoint address and certificate…; for serve: remove "
                    "tls-cert.pem and tls-key.pem from the data folder and start it again), then give identity "
                    "providers that pinned this one the new fingerprint.")  # fmt: skip
        return ("Install the renewed certificate (in the app: Vault → SCIM endpoint address and certificate…; for "
                "serve: --tls-cert and --tls-key).")  # fmt: skip


def read_expiry(cert_path: Path, now: datetime) -> CertificateExpiry | None:
    """The certificate at ``cert_path`` and its time left; None when there is none or it cannot be read (the
    endpoint says so itself when it starts)."""
    try:
        summary = summarise(cert_path.read_bytes())
    except (OSError, ConfigError):
        return None
    moment = expiry.aware(summary.not_after)
    return CertificateExpiry(summary.fingerprint, moment, moment - now, summary.self_signed)


def check_certificate_expiry(
    vault: Vault, cert_path: Path | None, now: datetime | None = None
) -> CertificateExpiry | None:
    """Raise the warning due at ``now``, if any and not raised yet for this certificate; returns what was raised.
    ``cert_path`` None: the endpoint serves plain HTTP (``serve --no-tls`` behind a proxy), nothing to watch."""
    moment = now or datetime.now(UTC)
    found = read_expiry(cert_path, moment) if cert_path is not None else None
    if found is None or found.marker is None:
        return None
    with vault.write_transaction() as conn:
        said = expiry.raised(conn, RULE, "fingerprint")
        stamp = iso_utc(found.not_after)
        if any((found.fingerprint, stamp, m) in said for m in LEVELS.as_urgent(found.marker)):
            return None
        summary = f"the SCIM endpoint's TLS certificate {found.describe()}"
        expiry.raise_alert(conn, RULE, LEVELS, found.marker, found.left, summary,
                           {"fingerprint": found.fingerprint}, found.not_after, moment)  # fmt: skip
    return found


class CertificateExpiryJob(PeriodicJob):
    """Checks shortly after start and then hourly."""

    def __init__(
        self,
        vault: Vault,
        cert_path: Callable[[], Path | None],
        interval: float = DEFAULT_INTERVAL_SECONDS,
        first_delay: float = 20.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """``cert_path``: the certificate the endpoint serves now (the app can move the endpoint to another)."""
        super().__init__("certificate-expiry", lambda: check_certificate_expiry(vault, cert_path(), clock()),
                         interval, first_delay, ready=lambda: vault.is_open)  # fmt: skip
