"""The breach register with a fake clock: the 72-hour deadline, what closing and late notification require,
aware never set automatically, every change on the audit trail, the draft, and the Art. 33(3)(a) helper."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from app.audit.trail import of_kind
from app.directory import repository as repo
from app.incidents import clock
from app.incidents.draft import write
from app.incidents.refusals import AnswerMissing
from app.incidents.register import IncidentError, IncidentRegister
from app.incidents.scope import approximate
from app.policy.in_force import PolicyInForce
from app.store.vault import Vault

FRIDAY_9 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # a Friday


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def test_deadline_is_72_hours_with_no_weekend_pause() -> None:
    assert clock.deadline_of(FRIDAY_9) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Monday 09:00
    paris_friday = datetime(2026, 10, 23, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))  # DST ends on Sunday 25 Oct
    deadline = clock.deadline_of(paris_friday)
    assert deadline - paris_friday.astimezone(UTC) == timedelta(hours=72)
    assert clock.utc_text(deadline) == "2026-10-26 07:00 UTC"
    assert clock.local_text(deadline, "Europe/Paris") == "2026-10-26 08:00 CET"  # 72 real hours, not wall time
    with pytest.raises(ValueError):
        clock.deadline_of(datetime(2026, 11, 27, 9, 0))


def test_lifecycle_rules_and_audit(vault: Vault) -> None:
    now = FakeClock(FRIDAY_9 - timedelta(hours=2))
    register = IncidentRegister(vault, now)
    incident = register.open_incident("Lost laptop", "dpo", occurred_from=FRIDAY_9 - timedelta(days=1))
    assert register.get(incident).clock(now()).state == "not_started"
    with pytest.raises(IncidentError, match="aware"):
        register.notify(incident, "dpo", "SA-1")
    with pytest.raises(IncidentError, match="before the incident was detected"):
        register.set_aware(incident, "dpo", "confirmed", at=FRIDAY_9 - timedelta(days=3))
    now.now = FRIDAY_9 + timedelta(minutes=10)  # awareness is recorded once it has happened, never ahead
    register.set_aware(incident, "dpo", "device confirmed stolen; mirror copy unencrypted", at=FRIDAY_9)

    now.now = FRIDAY_9 + timedelta(hours=71)
    assert register.get(incident).clock(now()).state == "running"
    now.now = FRIDAY_9 + timedelta(hours=73)
    status = register.get(incident).clock(now())
    assert status.state == "overdue" and "OVERDUE by 1 h 00 min" in status.describe()
    with pytest.raises(IncidentError, match="reasons for the delay"):
        register.notify(incident, "dpo", "SA-2026-001")
    register.notify(incident, "dpo", "SA-2026-001", delay_reason="weekend on-call failed to escalate")
    assert register.get(incident).clock(now()).state == "notified_late"
    register.notify(incident, "dpo", "SA-2026-001/2", summary="phase 2 details")
    assert [n.kind for n in register.get(incident).notifications] == ["initial", "follow-up"]

    register.assess(incident, "dpo", "high_risk", "names and e-mails of 300 staff")
    with pytest.raises(IncidentError, match="nature of the breach"):
        register.close(incident, "dpo")
    register.update(incident, "dpo", nature="theft", categories=["Names"], approx_subjects=300, approx_records=900,
                    dpo_contact="dpo@controller.example.test", consequences="phishing risk",
                    measures="credentials rotated")  # fmt: skip
    with pytest.raises(IncidentError, match=r"categories of data subjects \(Art\. 33\(3\)\(a\)\)"):
        register.close(incident, "dpo")
    register.update(incident, "dpo", subject_categories=["Employees"], categories=["Names", "Work contact details"])
    with pytest.raises(IncidentError, match=r"Art\. 34"):
        register.close(incident, "dpo")
    register.exempt_from_communication(incident, "dpo", "c", "public notice on the intranet")
    register.close(incident, "dpo")
    assert register.get(incident).state == "closed"
    with pytest.raises(IncidentError, match="closed"):
        register.update(incident, "dpo", title="renamed")

    with vault.read_connection() as conn:
        kinds = [e.kind for e in reversed(of_kind(conn, "incident."))]
        details = [e.details for e in of_kind(conn, "incident.")]
    assert kinds == [
        "incident.opened",
        "incident.aware_set",
        "incident.notified",
        "incident.notified",
        "incident.assessed",
        "incident.updated",
        "incident.updated",
        "incident.art34_exemption",
        "incident.closed",
    ]
    assert all("stolen" not in str(d) and "phishing" not in str(d) for d in details)  # field names only


def test_candidate_from_alert_has_no_aware_time_and_unnotified_ones_are_kept(vault: Vault) -> None:
    register = IncidentRegister(vault, FakeClock(FRIDAY_9))
    candidate = register.open_candidate_from_alert(alert_seq=42, rule="mass_deprovisioning", observed="500 in 60 s")
    view = register.get(candidate)
    assert view.aware_at is None and view.source == "alert:mass_deprovisioning" and view.state == "candidate"
    register.assess(candidate, "dpo", "none", "test tenant clean-up")
    with pytest.raises(AnswerMissing, match="record why the breach is unlikely to result in a risk") as refused:
        register.close(candidate, "dpo")
    assert refused.value.missing.needs == ("rationale",)  # the answer, in the register's terms
    register.close(candidate, "dpo", rationale="planned deprovisioning of the test tenant; no personal data")
    assert [v.id for v in register.list()] == [candidate]  # kept in the register, Art. 33(5)


def test_draft_and_scope(vault: Vault, tmp_path: Path) -> None:
    policy = PolicyInForce(vault).get().policy
    now = datetime.now(UTC)
    with vault.write_transaction() as conn:
        for n in range(12):
            document = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": f"s{n}@example.test",
                        "emails": [{"value": f"s{n}@example.test"}] if n < 5 else []}  # fmt: skip
            repo.insert_resource(conn, "User", f"00000000-0000-0000-0000-{n:012d}", document, now)
    with vault.read_connection() as conn:
        everyone = approximate(conn, policy)
        with_email = approximate(conn, policy, attributes=("emails.value",))
    assert everyone.subjects == 12 and with_email.subjects == 5
    assert with_email.categories == ["Work contact details"] and "approximate" in with_email.label

    register = IncidentRegister(vault, FakeClock(FRIDAY_9))
    incident = register.open_incident("Misdirected export", "dpo")
    register.set_aware(incident, "dpo", "recipient confirmed", at=FRIDAY_9)
    register.update(incident, "dpo", approx_subjects=with_email.subjects, categories=with_email.categories)
    md, pdf = write(register.get(incident), policy, FRIDAY_9 + timedelta(hours=1), "v1 sha256:abc", tmp_path)
    text = md.read_text()
    assert "Deadline (aware + 72 h):** 2026-11-30 09:00 UTC" in text
    assert "Data subjects (approximate):** 5" in text and "Requires human completion" in text
    extracted = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Misdirected export" in extracted and "2026-11-30 09:00 UTC" in extracted


def test_summary_counts_the_register_itself(vault: Vault) -> None:
    """What the Art. 30 breach column derives from (issue 12 §7): the register's rows, not event kinds."""
    from app.incidents.summary import summary

    now = FakeClock(FRIDAY_9 + timedelta(hours=1))
    register = IncidentRegister(vault, now)
    with vault.read_connection() as conn:
        assert summary(conn).describe() == "No incident recorded in the breach register"
    notified = register.open_incident("Misdirected e-mail", "dpo", detected_at=FRIDAY_9 - timedelta(hours=1))
    register.set_aware(notified, "dpo", "recipient confirmed", at=FRIDAY_9)
    register.notify(notified, "dpo", "SA-1")
    register.notify(notified, "dpo", "SA-1/2", follow_up=True)
    candidate = register.open_candidate_from_alert(3, "bulk_reads")
    register.assess(candidate, "dpo", "none", "a backup job")
    register.close(candidate, "dpo", rationale="no personal data left the system")
    register.open_candidate_from_alert(4, "auth_failures")
    with vault.read_connection() as conn:
        figures = summary(conn)
    assert (figures.incidents, figures.notified, figures.open, figures.closed, figures.candidates) == (3, 1, 2, 1, 1)
    assert figures.notified_ids == (notified,) and register.summary() == figures
    assert figures.describe() == ("3 incidents recorded in the breach register: 1 notified to the supervisory "
                                  "authority, 2 open, 1 closed")  # fmt: skip


def test_one_incident_is_said_in_the_singular(vault: Vault) -> None:
    """The Art. 30 breach column and the overview read "1 incident(s) recorded in the breach register"."""
    from app.incidents.summary import summary  # as the test above imports it

    IncidentRegister(vault, FakeClock(FRIDAY_9)).open_incident("Lost laptop", "dpo")
    with vault.read_connection() as conn:
        figures = summary(conn)
    assert figures.describe() == ("1 incident recorded in the breach register: 0 notified to the supervisory "
                                  "authority, 1 open, 0 closed")  # fmt: skip


def test_an_incident_closed_without_notification_has_its_clock_stopped(vault: Vault) -> None:
    """Closed as unlikely to result in a risk (with the rationale), the incident's clock read 'running' and, three
    days on, 'OVERDUE … a reason is required' in `breach list`, `breach show`, the draft and the Incidents page."""
    now = FakeClock(FRIDAY_9 + timedelta(minutes=10))
    register = IncidentRegister(vault, now)
    incident = register.open_incident("Laptop lost, disk encrypted", "dpo", detected_at=FRIDAY_9)
    register.set_aware(incident, "dpo", "device confirmed lost", at=FRIDAY_9)
    register.assess(incident, "dpo", "none", "full-disk encryption, key not on the device")
    register.close(incident, "dpo", "Unlikely to result in a risk: the disk is encrypted")
    for later in (timedelta(hours=1), timedelta(days=4)):
        now.now = FRIDAY_9 + later
        status = register.get(incident).clock(now())
        assert status.state == "closed_unnotified"
        assert status.describe() == (
            "stopped: closed without notification, its rationale recorded (deadline was 2026-11-30 09:00 UTC)"
        )
        assert status.short() == "stopped (closed, not notified)"
    md, _ = write(register.get(incident), PolicyInForce(vault).get().policy, now(), "v1 sha256:abc", vault.path.parent)
    text = md.read_text()
    assert "OVERDUE" not in text and "left (deadline" not in text
    assert "Not applicable: closed without notification" in text


@pytest.mark.parametrize("field", ["approx_subjects", "approx_records"])
@pytest.mark.parametrize("number", [-5, 2**63])
def test_an_approximate_number_is_a_count(vault: Vault, field: str, number: int) -> None:
    """Before: -5 was recorded ('approx_subjects: -5', into the draft for the authority) and 2**63 ended in an
    OverflowError traceback; both are refused and the register keeps what it had."""
    register = IncidentRegister(vault)
    incident = register.open_incident("Lost laptop", "dpo")
    register.update(incident, "dpo", **{field: 12})

    with pytest.raises(IncidentError, match="is from 0 to"):
        register.update(incident, "dpo", **{field: number})

    assert register.get(incident).fields[field] == 12
    register.update(incident, "dpo", **{field: 0})  # none concerned is a count too
    assert register.get(incident).fields[field] == 0


@pytest.mark.parametrize(
    ("title", "words"),
    [
        ("Phishing of gina.ortiz@example.test", "e-mail address"),  # shown everywhere, outlives her erasure
        ("Laptop lost\nsecond line", "one line"),  # split the breach list table
        ("Tab\tin title", "one line"),
    ],
)
def test_a_title_naming_a_person_or_spanning_lines_is_refused(vault: Vault, title: str, words: str) -> None:
    register = IncidentRegister(vault, FakeClock(FRIDAY_9))
    with pytest.raises(IncidentError, match=words) as refused:
        register.open_incident(title, "dpo")
    assert "gina" not in str(refused.value)  # the refusal never repeats the address
    kept = register.open_incident("Laptop lost at the airport", "dpo")
    with pytest.raises(IncidentError, match=words):
        register.update(kept, "dpo", title=title)
    assert register.get(kept).fields["title"] == "Laptop lost at the airport"
    assert [view.id for view in register.list()] == [kept]
