"""Forwarding to a real TLS syslog collector on loopback: pinning, and nothing lost or duplicated across an
outage; alert rules on replayed sequences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.audit.trail import Event, append, of_kind
from app.siem.alerts import AlertConfig, AlertEngine, Threshold
from app.siem.forwarder import pending, send_pending
from app.siem.syslog import Collector as Destination
from app.siem.syslog import PinMismatch
from app.store.vault import Vault
from tests.siem.conftest import Collector


def add_events(vault: Vault, n: int, kind: str = "scim.request", start: datetime | None = None) -> None:
    moment = start or datetime.now(UTC)
    with vault.write_transaction() as conn:
        for i in range(n):
            append(conn, Event(kind, "token:okta", details={"source": "127.0.0.1"}, at=moment + timedelta(seconds=i)))


def seqs(messages: list[str]) -> list[int]:
    return [int(m.split('seq="', 1)[1].split('"', 1)[0]) for m in messages]


def test_pinned_delivery_survives_an_outage_without_loss_or_duplicates(vault: Vault, collector: Collector) -> None:
    add_events(vault, 30)
    wrong = Destination("127.0.0.1", collector.port, "00" * 32)
    with pytest.raises(PinMismatch):
        send_pending(vault, wrong)
    destination = Destination("127.0.0.1", collector.port, collector.fingerprint)
    first = send_pending(vault, destination)
    assert first.sent >= 30

    port = collector.port
    collector.stop()  # the collector goes down; events keep coming
    add_events(vault, 20)
    with pytest.raises(OSError):
        send_pending(vault, destination)
    with vault.read_connection() as conn:
        assert pending(conn, destination.name) >= 20  # spooled in the trail itself

    collector.start(port)
    send_pending(vault, destination)
    delivered = seqs(collector.messages)
    with vault.read_connection() as conn:
        last = max(e.seq for e in of_kind(conn, "scim.request"))
        assert pending(conn, destination.name) == 0
    assert delivered == list(range(1, last + 1))  # every entry once, in order


def test_mass_deletes_raise_one_alert_and_normal_traffic_none(vault: Vault) -> None:
    engine = AlertEngine(vault, AlertConfig(mass_deprovisioning=Threshold(50, 10)))
    start = datetime(2026, 11, 27, 10, tzinfo=UTC)
    add_events(vault, 40, "scim.resource.deleted", start)  # normal day: 40 over 40 s
    assert engine.process_new() == []
    add_events(vault, 500, "scim.resource.deleted", start + timedelta(minutes=30))  # 500 in ~8 minutes
    alerts = engine.process_new()
    assert [a.rule for a in alerts] == ["mass_deprovisioning"]
    with vault.read_connection() as conn:
        stored = of_kind(conn, "alert.raised")
    assert len(stored) == 1 and stored[0].details["rule"] == "mass_deprovisioning"


def test_new_token_source_and_after_hours(vault: Vault) -> None:
    engine = AlertEngine(vault, AlertConfig(working_hours=(7, 19)))
    with vault.write_transaction() as conn:
        for source in ("10.0.0.1", "10.0.0.1", "192.0.2.9"):
            append(conn, Event("scim.request", "token:okta", details={"source": source}))
        saturday_night = datetime(2026, 11, 28, 23, 30).astimezone()
        append(conn, Event("scim.resource.created", "token:okta", at=saturday_night))
    rules = [a.rule for a in engine.process_new()]
    assert rules == ["new_token_source", "after_hours"]


def test_thresholds_come_from_alerts_toml(tmp_path: Path) -> None:
    from app.siem.alerts import load_alert_config

    assert load_alert_config(tmp_path).mass_deprovisioning == Threshold(50, 10)  # the defaults
    (tmp_path / "alerts.toml").write_text("[mass_deprovisioning]\ncount = 5\nminutes = 1\n[working_hours]\nstart = 8\n")
    config = load_alert_config(tmp_path)
    assert config.mass_deprovisioning == Threshold(5, 1) and config.working_hours == (8, 19)
