"""An alert raised by the background jobs opens a candidate incident (no aware time) and reaches the app's bus."""

from __future__ import annotations

from datetime import UTC, datetime

from app.audit.trail import of_kind
from app.core.events import EventBus
from app.incidents.register import IncidentRegister
from app.jobs import BackgroundJobs
from app.policy.in_force import PolicyInForce
from app.siem.alerts import AlertRaised
from app.siem.cef import to_cef
from app.siem.ocsf import to_ocsf
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
    with vault.read_connection() as conn:
        (opened,) = of_kind(conn, "incident.opened")
    # The job opened it, not a person: a SIEM reads "operator:…" as someone at the keyboard (OCSF user type User)
    assert opened.actor == "system:alerts" and "suser=system:alerts " in to_cef(opened)
    assert to_ocsf(opened)["unmapped"]["actor"]["user"]["type"] == "System"  # Incident Finding 1.1.0 has no actor


def test_schema_refusals_raise_a_configuration_alert_and_no_breach_candidate(vault: Vault) -> None:
    """Issue 14 §2: an IdP mapping the policy refuses is a set-up problem, not a personal-data breach."""
    bus = EventBus()
    seen: list[object] = []
    bus.subscribe(seen.append)
    jobs = BackgroundJobs(vault, PolicyInForce(vault), bus)
    add_events(vault, 25, "scim.attributes.rejected", datetime.now(UTC))
    alerts = jobs.alerts.engine.process_new()
    assert [a.rule for a in alerts] == ["schema_rejections"] and alerts[0].configuration
    assert IncidentRegister(vault).list() == []
    assert [type(e) for e in seen] == [AlertRaised]  # the app is still told, to point at "Outside the policy"
