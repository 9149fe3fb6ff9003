"""The breach clock cannot be reset: times are append-only, corrections carry a reason and stay visible, the
deadline runs from the earliest awareness, nothing lies in the future, and each correction is on the trail with
the old and the new time. A vault from before the history was kept is upgraded with its times as first entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from app.audit.trail import of_kind
from app.audit.vault_lifecycle import unlock_vault
from app.incidents import times
from app.incidents.register import IncidentError, IncidentRegister
from app.store.vault import Vault
from tests.conftest import PASSPHRASE
from tests.incidents.test_register import FRIDAY_9, FakeClock
from tests.store.old_vaults import engine_at

MONDAY_9 = FRIDAY_9 + timedelta(hours=72)


def _aware_incident(vault: Vault, now: FakeClock) -> tuple[IncidentRegister, int]:
    register = IncidentRegister(vault, now)
    incident = register.open_incident("Lost laptop", "dpo", detected_at=FRIDAY_9 - timedelta(hours=1))
    register.set_aware(incident, "dpo", "device confirmed stolen", at=FRIDAY_9)
    return register, incident


def test_a_later_correction_does_not_move_the_deadline(vault: Vault) -> None:
    now = FakeClock(FRIDAY_9 + timedelta(hours=80))  # Monday 17:00: overdue since Monday 09:00
    register, incident = _aware_incident(vault, now)
    assert register.get(incident).clock(now()).state == "overdue"
    # The reset seen on main: awareness recorded again later. It is a correction now, and the deadline stays.
    corrected = register.set_aware(incident, "ciso", "the ticket was only read on Saturday",
                                   at=FRIDAY_9 + timedelta(days=1))  # fmt: skip
    status = corrected.clock(now())
    assert status.state == "overdue" and status.deadline == MONDAY_9  # on main: "running", deadline Tuesday
    assert corrected.aware_at == FRIDAY_9 + timedelta(days=1)  # what the controller now states
    assert corrected.aware_anchor == FRIDAY_9  # what the clock runs from
    assert [(e.at, e.recorded_by, e.reason) for e in corrected.entries("aware_at")] == [
        (FRIDAY_9, "dpo", "device confirmed stolen"),
        (FRIDAY_9 + timedelta(days=1), "ciso", "the ticket was only read on Saturday"),
    ]
    # Notifying now is late against the first awareness: the delay reason is still required.
    with pytest.raises(IncidentError, match="reasons for the delay"):
        register.notify(incident, "dpo", "SA-1")


def test_an_earlier_correction_brings_the_deadline_forward(vault: Vault) -> None:
    now = FakeClock(FRIDAY_9 + timedelta(hours=1))
    register, incident = _aware_incident(vault, now)
    earlier = FRIDAY_9 - timedelta(minutes=30)
    view = register.set_aware(incident, "dpo", "the alert was confirmed at 08:30", at=earlier)
    assert view.clock(now()).deadline == earlier + timedelta(hours=72)


def test_a_corrected_early_awareness_does_not_block_a_detection_correction(vault: Vault) -> None:
    """Awareness typed two days early, then corrected: the deadline keeps running from the typo (a correction never
    restarts the clock), but the detection may now be corrected to any time up to the awareness on record. It was
    refused ("cannot be aware before the incident was detected") against the corrected-away typo."""
    now = FakeClock(FRIDAY_9 + timedelta(hours=2))
    register = IncidentRegister(vault, now)
    incident = register.open_incident("Lost laptop", "dpo", detected_at=FRIDAY_9 - timedelta(days=2, hours=1))
    typo = FRIDAY_9 - timedelta(days=2)
    register.set_aware(incident, "dpo", "device confirmed stolen", at=typo)
    register.set_aware(incident, "dpo", "typo: the day was wrong", at=FRIDAY_9)
    view = register.update(incident, "dpo", reason="typo: the day was wrong", detected_at=FRIDAY_9 - timedelta(hours=1))
    assert view.detected_at == FRIDAY_9 - timedelta(hours=1)
    assert view.clock(now()).deadline == typo + timedelta(hours=72)  # still from the earliest awareness
    with pytest.raises(IncidentError, match=r"aware \(.*\) before the incident was detected"):
        register.update(incident, "dpo", reason="later still", detected_at=FRIDAY_9 + timedelta(minutes=5))


def test_no_time_in_the_future(vault: Vault) -> None:
    now = FakeClock(FRIDAY_9 + timedelta(hours=80))
    register, incident = _aware_incident(vault, now)
    future = datetime(2027, 1, 1, tzinfo=UTC)  # the value that turned an overdue clock into "34 d left"
    with pytest.raises(IncidentError, match="in the future"):
        register.set_aware(incident, "dpo", "reset", at=future)
    with pytest.raises(IncidentError, match="in the future"):
        register.inform_subjects(incident, "dpo", at=future)
    with pytest.raises(IncidentError, match="in the future"):
        register.notify(incident, "dpo", "SA-1", at=future, delay_reason="x")
    with pytest.raises(IncidentError, match="in the future"):
        register.update(incident, "dpo", contained_at=future)
    with pytest.raises(IncidentError, match="in the future"):
        register.open_incident("Later", "dpo", detected_at=future)
    # A few minutes ahead is clock skew between machines, not the future.
    within_skew = now() + times.SKEW - timedelta(seconds=1)
    assert register.update(incident, "dpo", contained_at=within_skew).contained_at == within_skew
    assert register.get(incident).clock(now()).state == "overdue"  # nothing above changed the clock


def test_a_correction_needs_a_reason_and_keeps_every_value(vault: Vault) -> None:
    now = FakeClock(FRIDAY_9 + timedelta(hours=2))
    register, incident = _aware_incident(vault, now)
    first_detected = FRIDAY_9 - timedelta(hours=1)
    with pytest.raises(IncidentError, match="needs its reason"):
        register.update(incident, "dpo", detected_at=FRIDAY_9 - timedelta(hours=3))
    with pytest.raises(IncidentError, match=r"aware \(.*\) before the incident was detected"):
        register.update(incident, "dpo", reason="typo", detected_at=FRIDAY_9 + timedelta(minutes=5))
    view = register.update(incident, "dpo", reason="SIEM shows the first alert at 06:00",
                           detected_at=FRIDAY_9 - timedelta(hours=3))  # fmt: skip
    assert [e.at for e in view.entries("detected_at")] == [first_detected, FRIDAY_9 - timedelta(hours=3)]
    with pytest.raises(IncidentError, match="already recorded"):
        register.set_aware(incident, "dpo", "again")  # no --at: a re-run, not a correction
    with pytest.raises(IncidentError, match="Nothing changed"):
        register.set_aware(incident, "dpo", "again", at=FRIDAY_9)

    register.inform_subjects(incident, "dpo", at=FRIDAY_9 + timedelta(hours=1))
    with pytest.raises(IncidentError, match="already recorded as informed"):
        register.inform_subjects(incident, "dpo")
    with pytest.raises(IncidentError, match="needs its reason"):
        register.inform_subjects(incident, "dpo", at=FRIDAY_9 + timedelta(minutes=90))
    view = register.inform_subjects(incident, "dpo", at=FRIDAY_9 + timedelta(minutes=90), reason="mail log time")
    assert [e.reason for e in view.entries("subjects_informed_at")] == ["", "mail log time"]

    register.notify(incident, "dpo", "SA-1", at=FRIDAY_9 + timedelta(hours=1))
    with pytest.raises(IncidentError, match="no notification 2"):
        register.correct_notification(incident, "dpo", 2, FRIDAY_9, "x")
    with pytest.raises(IncidentError, match="precede the earliest awareness recorded"):
        register.correct_notification(incident, "dpo", 1, FRIDAY_9 - timedelta(hours=1), "portal receipt")
    view = register.correct_notification(incident, "dpo", 1, FRIDAY_9 + timedelta(minutes=75), "portal receipt")
    assert view.notifications[0].at == FRIDAY_9 + timedelta(minutes=75)
    assert [e.at for e in view.entries("notified", view.notifications[0].id)] == [
        FRIDAY_9 + timedelta(hours=1), FRIDAY_9 + timedelta(minutes=75)
    ]  # fmt: skip


def test_a_notification_corrected_past_the_deadline_needs_the_delay_reason(vault: Vault) -> None:
    now = FakeClock(FRIDAY_9 + timedelta(hours=80))
    register, incident = _aware_incident(vault, now)
    register.notify(incident, "dpo", "SA-1", at=FRIDAY_9 + timedelta(hours=70))
    with pytest.raises(IncidentError, match="reasons for the delay"):
        register.correct_notification(incident, "dpo", 1, FRIDAY_9 + timedelta(hours=74), "receipt says Monday")
    view = register.correct_notification(incident, "dpo", 1, FRIDAY_9 + timedelta(hours=74), "receipt says Monday",
                                         delay_reason="portal outage")  # fmt: skip
    assert view.clock(now()).state == "notified_late" and view.delay_reason == "portal outage"


def test_each_correction_is_on_the_trail_with_old_and_new_time(vault: Vault) -> None:
    now = FakeClock(FRIDAY_9 + timedelta(hours=3))
    register, incident = _aware_incident(vault, now)
    register.set_aware(incident, "dpo", "secret reasoning about a person", at=FRIDAY_9 + timedelta(hours=2))
    register.notify(incident, "dpo", "SA-1", at=FRIDAY_9 + timedelta(hours=2, minutes=30))
    register.correct_notification(incident, "dpo", 1, FRIDAY_9 + timedelta(hours=2, minutes=40), "receipt")
    with vault.read_connection() as conn:
        corrections = [e.details for e in reversed(of_kind(conn, "incident.time_corrected"))]
        aware_set = of_kind(conn, "incident.aware_set")
    assert corrections == [
        {"incident": incident, "field": "aware_at", "old": "2026-11-27T09:00:00+00:00",
         "new": "2026-11-27T11:00:00+00:00", "deadline": "2026-11-30T09:00:00+00:00"},
        {"incident": incident, "field": "notified", "notification": 1, "old": "2026-11-27T11:30:00+00:00",
         "new": "2026-11-27T11:40:00+00:00", "deadline": "2026-11-30T09:00:00+00:00"},
    ]  # fmt: skip
    assert aware_set[0].details["times"] == {"aware_at": "2026-11-27T09:00:00+00:00"}
    assert "secret" not in str(corrections)  # the reasons stay in the encrypted register


def test_upgrade_keeps_existing_times_as_their_first_entries(data_dir: Path) -> None:
    engine = engine_at(data_dir, "0008")  # the register as main left it
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO incidents (id, title, description, source, created, detected_at, aware_at, aware_by, "
            "aware_reason, nature, categories, dpo_contact, consequences, measures) VALUES (1, 't', '', 'manual', "
            ":c, :d, :a, 'dpo', 'confirmed', '', '[]', '', '', '')"
        ), {"c": FRIDAY_9, "d": FRIDAY_9 - timedelta(hours=1), "a": FRIDAY_9})  # fmt: skip
        conn.execute(text("INSERT INTO incident_notifications (incident_id, at, kind, reference, summary) "
                          "VALUES (1, :n, 'initial', 'SA-1', '')"), {"n": FRIDAY_9 + timedelta(hours=5)})  # fmt: skip
    engine.dispose()
    vault = unlock_vault(data_dir, PASSPHRASE)
    try:
        view = IncidentRegister(vault, FakeClock(FRIDAY_9 + timedelta(days=1))).get(1)
        assert [(e.name, e.at, e.recorded_by) for e in view.history] == [
            ("detected_at", FRIDAY_9 - timedelta(hours=1), "migration 0012"),
            ("aware_at", FRIDAY_9, "dpo"),
            ("notified", FRIDAY_9 + timedelta(hours=5), "migration 0012"),
        ]
        assert "before the history" in view.entries("aware_at")[0].reason
        assert view.clock(FRIDAY_9).state == "notified_in_time" and view.breach_types == []
    finally:
        vault.close()
