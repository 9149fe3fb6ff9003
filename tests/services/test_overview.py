"""The Overview's reads (app/services/overview.py), Qt-free and with the clock given: one moment for every line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.audit.trail import Event, append
from app.incidents.register import IncidentRegister
from app.policy.in_force import PolicyInForce
from app.services.overview import read_overview
from app.store.vault import Vault
from tests.erasure.support import person, service_for

MORNING = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_the_overview_is_read_at_the_moment_it_is_given(vault: Vault) -> None:
    service = service_for(vault)
    for name in ("ov-a@example.test", "ov-b@example.test", "ov-c@example.test"):
        service.create("User", person(name))
    service.close()
    with vault.write_transaction() as conn:
        append(conn, Event("alert.raised", "system:alerts", "failure", details={"rule": "x"}, at=MORNING))
        append(conn, Event("alert.raised", "system:alerts", "failure", details={"rule": "x"},
                           at=MORNING - timedelta(days=1)))  # fmt: skip
    aware = MORNING - timedelta(hours=2)
    register = IncidentRegister(vault, now=lambda: MORNING)
    incident = register.open_incident("Misdirected export", "dpo", detected_at=aware - timedelta(hours=1))
    register.set_aware(incident, "dpo", "recipient confirmed", at=aware)

    policy = PolicyInForce(vault)
    same_day = read_overview(vault, policy, now=MORNING + timedelta(hours=1))
    assert (same_day.users, same_day.groups) == (3, 0)
    assert same_day.alerts_today == 1  # yesterday's alert is not today's
    # 72 hours from awareness (07:00), counted from the moment given (10:00), not from the machine's clock.
    assert same_day.incidents == [f"#{incident} Misdirected export: open; 2 d 21 h 00 min left (deadline 2026-12-03 "
                                  "07:00 UTC)"]  # fmt: skip
    assert same_day.requests == "No data subject request awaiting an answer."

    four_days_on = read_overview(vault, policy, now=MORNING + timedelta(days=4))
    assert four_days_on.alerts_today == 0
    assert "overdue" in four_days_on.incidents[0].lower()
