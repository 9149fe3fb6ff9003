"""An alert raised by the background jobs opens a candidate incident (no aware time) and reaches the app's bus."""

from __future__ import annotations

from datetime import UTC, datetime

from app.core.events import EventBus
from app.incidents.register import IncidentRegister
from app.jobs import BackgroundJobs
from app.policy.in_force import PolicyInForce
from app.siem.alerts import AlertRaised
from app.store.vault import Vault
from tests.siem.conftest import add_events


def test_alert_opens_a_candidate_incident(vault: Vault) -> None:
    bus = EventBus()
    seen: list[object] = []
    bus.subscribe(seen.append)
    jobs = BackgroundJobs(vault, PolicyInForce(vault), bus)
    add_events(vault, 60, "scim.resource.deleted", datetime.now(UTC))
    alerts = jobs.alerts.engine.process_new()  # what the watcher thread does every few seconds
    assert [a.rule for a in alerts] == ["mass_deprovisioning"]
    (incident,) = IncidentRegister(vault).list()
    assert incident.source == "alert:mass_deprovisioning" and incident.aware_at is None
    assert incident.alert_seq == alerts[0].seq
    assert [type(e) for e in seen] == [AlertRaised]
