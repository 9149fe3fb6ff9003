"""The drafts read back: the Art. 33 notification (every Art. 33(3) item and every field authority forms ask,
present and true, in Markdown and in the PDF) and the Art. 34 communication to the data subjects."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.incidents import communication, draft
from app.incidents.register import IncidentRegister
from app.policy.in_force import PolicyInForce
from app.policy.model import NEEDS_HUMAN, AttributeRule, Contact, DataCategory, Policy
from app.store.vault import Vault
from tests.incidents.test_register import FRIDAY_9, FakeClock
from tests.planted_links import plant, untouched

DPO = Contact("Dr. Anna Schmidt (DataGuard GmbH, external DPO)", "Theresienstr. 1, 80333 München",
              "dpo@dataguard.example", "+49 89 0000")  # fmt: skip
HEALTH = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division"


def _policy(vault: Vault) -> Policy:
    """The shipped policy with a German controller, an external DPO and one Art. 9 attribute."""
    base = PolicyInForce(vault).get().policy
    health = DataCategory("health", "Occupational health")
    rule = AttributeRule(HEALTH, HEALTH.lower(), "User", "health", ("access-management",), special=True,
                         art9_condition="b", top=HEALTH.lower())  # fmt: skip
    return replace(base, controller=Contact("Beispiel AG", "Hauptstr. 1, 10115 Berlin", "privacy@beispiel.example"),
                   dpo=DPO, categories=(*base.categories, health), attributes=(*base.attributes, rule))  # fmt: skip


@pytest.fixture
def incident(vault: Vault) -> tuple[IncidentRegister, int, FakeClock]:
    now = FakeClock(FRIDAY_9 + timedelta(hours=30))
    register = IncidentRegister(vault, now)
    incident = register.open_incident(
        "Payroll export sent to the wrong supplier", "dpo", detected_at=FRIDAY_9 - timedelta(hours=2),
        occurred_from=FRIDAY_9 - timedelta(days=1), occurred_to=FRIDAY_9 - timedelta(days=1, hours=-1),
        details={"breach_types": ["confidentiality", "availability"],
                 "cause": "Wrong recipient picked in the SFTP tool",
                 "discovery": "The supplier phoned the service desk", "subject_categories": ["Employees"]},
    )  # fmt: skip
    register.set_aware(incident, "dpo", "supplier confirmed receipt", at=FRIDAY_9)
    register.update(
        incident, "dpo", nature="A file of names and sick-leave codes was sent to an unrelated supplier.",
        categories=["Names", "Occupational health"], approx_subjects=120, approx_records=360,
        dpo_contact="breach-line@beispiel.example", consequences="Colleagues' health information may be known "
        "to outsiders.", measures="The supplier deleted the file and confirmed it in writing.",
        special_categories="no", authority="Berliner Beauftragte für Datenschutz", cross_border=True,
        lead_authority="Berliner Beauftragte für Datenschutz (lead)", other_authorities="None",
        processor="Lohn-Service GmbH (payroll bureau)", processor_notified_at=FRIDAY_9,
        subject_summary="A file with your name and a sick-leave code was sent by mistake to another company.",
        subject_advice="You need not do anything; tell us if anyone contacts you about it.",
    )  # fmt: skip
    register.assess(incident, "dpo", "high_risk", "health data of staff")
    register.notify(incident, "dpo", "BlnBDI-2026-77", at=FRIDAY_9 + timedelta(hours=20))
    register.inform_subjects(incident, "dpo", at=FRIDAY_9 + timedelta(hours=22))
    now.now = FRIDAY_9 + timedelta(hours=31)
    register.set_aware(incident, "ciso", "the supplier's mail was read on Saturday", at=FRIDAY_9 + timedelta(hours=25))
    return register, incident, now


def _pdf_text(path: Path) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


def test_notification_draft_holds_each_item_true(vault: Vault, tmp_path: Path, incident: tuple) -> None:
    register, incident_id, now = incident
    md_path, pdf_path = draft.write(register.get(incident_id), _policy(vault), now(), "v1 sha256:abc", tmp_path)
    expected = {
        # Art. 33(3)(b): the DPO's own details, and the incident's contact added (on main: the e-mail only)
        "Data protection officer": "Dr. Anna Schmidt (DataGuard GmbH, external DPO); Theresienstr. 1, 80333 München; "
        "dpo@dataguard.example; +49 89 0000; contact for this incident: breach-line@beispiel.example",
        "Controller": "Beispiel AG; Hauptstr. 1, 10115 Berlin; privacy@beispiel.example",
        # Art. 33(3)(a)
        "Nature": "A file of names and sick-leave codes was sent to an unrelated supplier.",
        "Categories of data subjects": "Employees",
        "Data subjects (approximate)": "120",
        "Categories of personal data": "Names, Occupational health",
        "Records (approximate)": "360",
        # Art. 33(3)(c), (d)
        "Likely consequences (Art. 33(3)(c))": "Colleagues' health information may be known to outsiders.",
        "Measures taken or proposed (Art. 33(3)(d))": "The supplier deleted the file and confirmed it in writing.",
        # what authority forms ask
        "Type of breach": "Confidentiality, Availability",
        "Cause": "Wrong recipient picked in the SFTP tool",
        "How and when it was discovered": "The supplier phoned the service desk — detected 2026-11-27 07:00 UTC",
        "Special categories (Art. 9) or criminal data (Art. 10)": f"No — check: the policy marks {HEALTH} "
        "(Occupational health) as special-category data (Art. 9) in the categories recorded",
        # the name and the notification (changed deliberately: the name alone did not say it was notified)
        "Supervisory authority notified": "Berliner Beauftragte für Datenschutz — notified 2026-11-28 05:00 UTC, "
        "reference BlnBDI-2026-77",
        "Cross-border processing (Art. 56)": "Yes",
        "Lead supervisory authority (one-stop-shop)": "Berliner Beauftragte für Datenschutz (lead)",
        "Other authorities informed": "None",
        "Processor": "Lohn-Service GmbH (payroll bureau)",
        "Processor notified the controller": "2026-11-27 09:00 UTC",
        # the clock runs from the first awareness, whatever was corrected later
        "Controller aware": "2026-11-27 09:00 UTC — supplier confirmed receipt",
        "Deadline (aware + 72 h)": "2026-11-30 09:00 UTC",
        "Clock": "notified in time (deadline 2026-11-30 09:00 UTC)",
        "Notified (initial)": "2026-11-28 05:00 UTC — reference BlnBDI-2026-77",
        "Art. 34": "Data subjects informed 2026-11-28 07:00 UTC",
        "Controller aware: corrected": "2026-11-27 09:00 UTC (recorded 2026-11-28 15:00 UTC by dpo: supplier "
        "confirmed receipt); then 2026-11-28 10:00 UTC (recorded 2026-11-28 16:00 UTC by ciso: the supplier's mail "
        "was read on Saturday)",
    }  # fmt: skip
    text = md_path.read_text(encoding="utf-8")
    pdf = _pdf_text(pdf_path)
    for label, value in expected.items():
        assert f"**{label}:** {value}" in text or f"## {label}\n\n{value}" in text, label
        assert " ".join(value.split()) in pdf, label
    assert NEEDS_HUMAN not in text  # every field recorded, none left for a human


def test_notification_draft_says_what_is_missing(vault: Vault, tmp_path: Path) -> None:
    register = IncidentRegister(vault, FakeClock(FRIDAY_9 + timedelta(hours=1)))
    incident_id = register.open_incident("Unknown yet", "dpo")
    text = draft.markdown(register.get(incident_id), _policy(vault), FRIDAY_9 + timedelta(hours=1), "v1")
    hint = "(the policy's purposes name: Employees, Contractors)"
    assert f"**Categories of data subjects:** {NEEDS_HUMAN} {hint}" in text
    assert f"**Type of breach:** {NEEDS_HUMAN}" in text
    assert f"**Cross-border processing (Art. 56):** {NEEDS_HUMAN}" in text
    # With no DPO in the policy and no contact recorded, nothing is invented.
    bare = draft.markdown(register.get(incident_id), PolicyInForce(vault).get().policy, FRIDAY_9, "v1")
    assert f"**Data protection officer:** {NEEDS_HUMAN}" in bare


def test_a_notification_recorded_without_the_authority_s_name_reads_as_notified(vault: Vault) -> None:
    """On main the draft said "Supervisory authority notified: Requires human completion" although the
    notification and its reference were recorded: it meant the authority's name, but read as if nobody was told.
    And a name recorded before notifying read as notified."""
    register = IncidentRegister(vault, FakeClock(FRIDAY_9 + timedelta(hours=30)))
    told = register.open_incident("Lost laptop", "dpo", detected_at=FRIDAY_9 - timedelta(hours=1))
    register.set_aware(told, "dpo", "laptop confirmed stolen", at=FRIDAY_9)
    register.notify(told, "dpo", "SA-7", at=FRIDAY_9 + timedelta(hours=20))
    text = draft.markdown(register.get(told), _policy(vault), FRIDAY_9 + timedelta(hours=30), "v1")
    assert ("**Supervisory authority notified:** Notified 2026-11-28 05:00 UTC, reference SA-7; the authority's "
            f"name: {NEEDS_HUMAN}") in text  # fmt: skip

    named = register.open_incident("Misaddressed mail", "dpo", details={"authority": "CNIL"})
    text = draft.markdown(register.get(named), _policy(vault), FRIDAY_9 + timedelta(hours=30), "v1")
    assert "**Supervisory authority notified:** Not yet notified; the authority to notify: CNIL" in text


def test_communication_to_data_subjects(vault: Vault, tmp_path: Path, incident: tuple) -> None:
    register, incident_id, now = incident
    md_path, pdf_path = communication.write(register.get(incident_id), _policy(vault), now(), "v1", tmp_path)
    assert (md_path.name, pdf_path.name) == ("incident-1-communication.md", "incident-1-communication.pdf")
    text = md_path.read_text(encoding="utf-8")
    pdf = _pdf_text(pdf_path)
    expected = [
        "A file with your name and a sick-leave code was sent by mistake to another company.",  # the nature
        "It happened between 2026-11-26 09:00 UTC and 2026-11-26 10:00 UTC.",
        "The information involved: Names, Occupational health.",
        "Colleagues' health information may be known to outsiders.",  # likely consequences
        "The supplier deleted the file and confirmed it in writing.",  # measures
        "You need not do anything; tell us if anyone contacts you about it.",  # what the person can do
        "Dr. Anna Schmidt (DataGuard GmbH, external DPO); Theresienstr. 1, 80333 München",  # the DPO contact
        "Art. 34(1) GDPR requires this communication without undue delay.",  # high risk: the note says so
    ]
    for value in expected:
        assert value in text and value in pdf, value
    assert "## What you can do" in text and "Reference: incident 1." in text


def test_communication_asks_for_what_is_missing(vault: Vault) -> None:
    register = IncidentRegister(vault, FakeClock(FRIDAY_9 + timedelta(hours=1)))
    incident_id = register.open_incident("Lost laptop", "dpo")
    register.update(incident_id, "dpo", nature="Laptop stolen from a car")
    text = communication.markdown(register.get(incident_id), _policy(vault), FRIDAY_9, "v1")
    assert f"{NEEDS_HUMAN} (the notification to the authority says: Laptop stolen from a car). When it" in text
    assert f"## What you can do\n\n{NEEDS_HUMAN}" in text
    assert "The risk is not yet assessed" in text


def test_the_drafts_are_readable_by_their_owner_only(vault: Vault, tmp_path: Path, incident: tuple) -> None:
    """The Art. 33 draft and the Art. 34 letter carry the incident's free text, which may identify people (the
    Art. 30 record says so of the register): they were written with the umask's mode (0644 here), where the
    subject export and the answer letters are 0600."""
    register, incident_id, now = incident
    view = register.get(incident_id)
    written = [*draft.write(view, _policy(vault), now(), "v1", tmp_path),
               *communication.write(view, _policy(vault), now(), "v1", tmp_path)]  # fmt: skip
    assert len(written) == 4 and all(path.exists() for path in written)
    assert {path.name: path.stat().st_mode & 0o777 for path in written} == {path.name: 0o600 for path in written}


def test_the_drafts_never_write_through_a_link_in_the_folder(vault: Vault, tmp_path: Path, incident: tuple) -> None:
    """A link planted under a draft's name (``incident-1-notification.md -> ~/.bashrc`` in a shared folder) had
    the file it named truncated, made 0600 and overwritten with the draft: the names were opened for writing."""
    register, incident_id, now = incident
    view = register.get(incident_id)
    names = [f"incident-{incident_id}-{kind}.{suffix}" for kind in ("notification", "communication")
             for suffix in ("md", "pdf")]  # fmt: skip
    out, victim = plant(tmp_path, "drafts", names)
    written = [*draft.write(view, _policy(vault), now(), "v1", out),
               *communication.write(view, _policy(vault), now(), "v1", out)]  # fmt: skip
    assert untouched(victim)
    assert all(not path.is_symlink() and path.stat().st_size > 0 for path in written)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)  # no staging folder left


def test_why_the_authority_was_not_told_is_not_read_as_why_the_people_were_not(vault: Vault) -> None:
    """A high-risk breach notified to the authority, the people not yet told: the Art. 34 section ended with
    "Not notified: rationale: not needed: the authority was notified", read as the reason the people were not
    told, which Art. 34(1) does not allow. The rationale is the authority's (Art. 33(1)) and stands with it."""
    register = IncidentRegister(vault, FakeClock(FRIDAY_9 + timedelta(hours=30)))
    told = register.open_incident("Lost laptop", "dpo", detected_at=FRIDAY_9 - timedelta(hours=1))
    register.set_aware(told, "dpo", "laptop confirmed stolen", at=FRIDAY_9)
    register.assess(told, "dpo", "high_risk", "unencrypted health data")
    register.notify(told, "dpo", "SA-7", at=FRIDAY_9 + timedelta(hours=20))
    text = draft.markdown(register.get(told), _policy(vault), FRIDAY_9 + timedelta(hours=30), "v1")
    art34 = text.split("## Risk and communication to data subjects (Art. 34)")[1]
    assert "Not notified" not in art34 and "authority was notified" not in art34, art34
    assert f"**Art. 34:** {NEEDS_HUMAN}" in art34
    authorities = text.split("## Authorities")[1].split("## ")[0]
    assert "**Authority not notified: rationale (Art. 33(1)):** Not applicable: the authority was notified" in (
        authorities
    )
