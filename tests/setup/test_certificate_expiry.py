"""The endpoint certificate's expiry (decision 0058): 30 days, 7 days and expired, each once per certificate as an
alert on the trail; a new certificate starts again; `serve` says it at start; the notice and the Overview say it."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.audit.trail import of_kind
from app.headless import resolve_tls
from app.notices.deadlines import DeadlineWatch, read_deadlines
from app.notices.notice import CERTIFICATE_EXPIRY
from app.setup.certificate_expiry import RULE, check_certificate_expiry, read_expiry
from app.setup.tls import generate_self_signed
from app.store.vault import Vault
from tests.setup.cert_support import write_pair


def _alerts(vault: Vault) -> list[dict[str, object]]:
    with vault.read_connection() as conn:
        return [event.details for event in reversed(of_kind(conn, "alert.raised")) if event.details["rule"] == RULE]


def test_each_level_is_raised_once_per_certificate(vault: Vault, tmp_path: Path) -> None:
    cert = generate_self_signed(tmp_path).cert_path
    found = read_expiry(cert, datetime.now(UTC))
    assert found is not None and found.self_signed and found.marker is None  # 825 days: nothing to say
    end = found.not_after

    assert check_certificate_expiry(vault, cert, end - timedelta(days=31)) is None
    first = check_certificate_expiry(vault, cert, end - timedelta(days=20))
    assert first is not None and first.marker == "30d"
    assert check_certificate_expiry(vault, cert, end - timedelta(days=19)) is None  # said once
    assert getattr(check_certificate_expiry(vault, cert, end - timedelta(days=2)), "marker", None) == "7d"
    assert getattr(check_certificate_expiry(vault, cert, end + timedelta(hours=1)), "marker", None) == "expired"
    assert check_certificate_expiry(vault, cert, end + timedelta(days=5)) is None

    alerts = _alerts(vault)
    assert [(a["fingerprint"], a["marker"]) for a in alerts] == [
        (found.fingerprint, m) for m in ("30d", "7d", "expired")
    ]
    assert (
        alerts[0]["summary"] == f"the SCIM endpoint's TLS certificate expires in 20 days, at {end:%Y-%m-%d %H:%M} UTC"
    )
    assert b"PRIVATE" not in json.dumps(alerts).encode()

    renewed = generate_self_signed(tmp_path).cert_path  # a new certificate: its own warnings
    fresh = read_expiry(renewed, end)
    assert fresh is not None and fresh.fingerprint != found.fingerprint
    assert getattr(check_certificate_expiry(vault, renewed, fresh.not_after - timedelta(days=10)), "marker", None) == (
        "30d"
    )
    assert check_certificate_expiry(vault, None, end) is None  # plain HTTP behind a proxy: nothing to watch


def test_serve_says_at_start_that_its_certificate_expires_soon(
    data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cert, key = write_pair(tmp_path / "own", days=5)
    with caplog.at_level(logging.WARNING, logger="app.headless"):
        resolve_tls(data_dir, str(cert), str(key), no_tls=False)
    said = [r.getMessage() for r in caplog.records if r.name == "app.headless"]
    assert len(said) == 1 and said[0].startswith("the TLS certificate expires in 5 days, at ")
    assert "Install the renewed certificate" in said[0]
    caplog.clear()
    long_cert, long_key = write_pair(tmp_path / "long", days=90)
    with caplog.at_level(logging.WARNING, logger="app.headless"):
        resolve_tls(data_dir, str(long_cert), str(long_key), no_tls=False)
    assert not [r for r in caplog.records if r.name == "app.headless"]


def test_a_notice_says_it_and_opens_the_overview(vault: Vault, tmp_path: Path) -> None:
    cert, _key = write_pair(tmp_path / "own", days=40)
    found = read_expiry(cert, datetime.now(UTC))
    assert found is not None
    watch = DeadlineWatch()
    assert watch.news(read_deadlines(vault, found.not_after - timedelta(days=31), cert)) == []
    soon = watch.news(read_deadlines(vault, found.not_after - timedelta(days=6), cert))
    assert [(n.kind, n.page, n.title, n.urgent) for n in soon] == [
        (CERTIFICATE_EXPIRY, "overview", "Custos: certificate expires soon", False)
    ]
    assert soon[0].text.startswith("The SCIM endpoint's TLS certificate expires in 6 days, at ")
    gone = watch.news(read_deadlines(vault, found.not_after + timedelta(minutes=1), cert))
    assert [(n.title, n.urgent) for n in gone] == [("Custos: certificate expired", True)]
    assert "identity providers refuse it" in gone[0].text


def test_the_overview_says_it_beside_the_endpoint(vault: Vault, tmp_path: Path) -> None:
    from app.services.overview import read_overview
    from app.services.policy import PolicyInForce

    cert, _key = write_pair(tmp_path / "own", days=12)
    found = read_expiry(cert, datetime.now(UTC))
    assert found is not None
    policy = PolicyInForce(vault)
    assert read_overview(vault, policy, found.not_after - timedelta(days=40), certificate=cert).certificate == ""
    line = read_overview(vault, policy, found.not_after - timedelta(days=12), certificate=cert).certificate
    assert line.startswith("TLS certificate expires in 12 days, at ") and "Install the renewed certificate" in line
