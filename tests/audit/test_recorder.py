"""The request recorder (issue 11 §1): one bad event never costs the others, and what was refused or lost is
itself on the trail and raises an alert."""

from __future__ import annotations

from datetime import UTC, datetime

from app.audit.recorder import LOST_KIND, REFUSED_KIND, AuditRecorder
from app.audit.trail import Event, of_kind
from app.siem.alerts import AlertEngine
from app.store.vault import Vault
from tests.conftest import PASSPHRASE


def request(n: int) -> Event:
    return Event("scim.request", "token:idp", details={"method": "GET", "endpoint": "Users", "status": 200, "n": n})


def recorded(vault: Vault, kind: str) -> list:  # type: ignore[type-arg]
    with vault.read_connection() as conn:
        return of_kind(conn, kind)


def test_a_refused_event_is_dropped_alone_and_reported(vault: Vault) -> None:
    recorder = AuditRecorder(vault)
    recorder.record(request(1))
    recorder.record(Event("scim.request", "anonymous", details={"endpoint": "x@evil.example"}))  # refused
    recorder.record(request(2))
    recorder.flush()
    assert sorted(e.details["n"] for e in recorded(vault, "scim.request")) == [1, 2]  # before: neither
    (report,) = recorded(vault, REFUSED_KIND)
    assert report.outcome == "failure" and report.details["count"] == 1
    assert report.details["kinds"] == {"scim.request": 1}
    assert "evil" not in str(report.content())
    assert recorder.refused == {"scim.request": 1}


def test_events_lost_while_the_vault_was_closed_are_reported_when_it_opens(vault: Vault) -> None:
    recorder = AuditRecorder(vault)
    vault.close()
    recorder.record(request(1))
    recorder.record(request(2))
    recorder.flush()
    vault.reopen(PASSPHRASE)
    recorder.record(request(3))
    recorder.flush()
    assert [e.details["n"] for e in recorded(vault, "scim.request")] == [3]
    (report,) = recorded(vault, LOST_KIND)
    assert report.details == {"count": 2, "reasons": {"vault_closed": 2}}


def test_a_batch_that_fails_as_a_whole_is_written_event_by_event(vault: Vault) -> None:
    recorder = AuditRecorder(vault)
    recorder.record(request(1))
    recorder.record(Event("scim.request", "token:idp", details={"n": 0}, at="not a time"))  # type: ignore[arg-type]
    recorder.record(Event("scim.request", "token:idp", details={"n": object()}))  # not JSON: refused up front
    recorder.record(request(2))
    recorder.flush()
    assert sorted(e.details["n"] for e in recorded(vault, "scim.request")) == [1, 2]
    (lost,) = recorded(vault, LOST_KIND)
    assert lost.details == {"count": 1, "reasons": {"write_failed": 1}}
    assert recorder.refused == {"scim.request": 1}


def test_the_recorder_failure_raises_an_alert(vault: Vault) -> None:
    recorder = AuditRecorder(vault)
    recorder.record(Event("scim.request", "anonymous", details={"endpoint": "a@b.example"}))
    recorder.flush()
    alerts = AlertEngine(vault, clock=lambda: datetime.now(UTC)).process_new()
    (alert,) = [a for a in alerts if a.rule == "audit_recorder"]
    assert alert.observed == 1 and "could not be recorded" in alert.summary


class Periodic:
    def __init__(self) -> None:
        self.asked: list[bool] = []

    def due(self, *, everything: bool = False) -> list[Event]:
        self.asked.append(everything)
        return [Event("scim.auth.failed", "anonymous", "failure", details={"count": 2})] if everything else []


def test_periodic_sources_are_written_at_flush_even_without_requests(vault: Vault) -> None:
    source = Periodic()
    recorder = AuditRecorder(vault, sources=(source,))
    recorder.start()
    recorder.flush()
    assert [e.details["count"] for e in recorded(vault, "scim.auth.failed")] == [2]
    assert source.asked[-1] is True
