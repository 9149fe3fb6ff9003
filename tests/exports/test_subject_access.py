"""The subject-access export is complete and true: the request's own date, Art. 15(2) safeguards for each
third-country recipient, an Art. 15(1)(h) statement, the trail's events about the person, recipients by name
(only those whose scope covers the person), and the manager by name; the JSON validates against its schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
import tomlkit
from pypdf import PdfReader

from app.audit.pseudonyms import pseudonym_for
from app.audit.trail import READ_SUBJECTS, of_kind
from app.cli import main
from app.directory.schema import ENTERPRISE_SCHEMA
from app.exports.subject import export_subject
from app.policy.edit import add_recipient
from app.policy.versions import default_policy_text, in_force
from app.store.vault import Vault
from app.targets.config import TargetConfig, add_target
from app.targets.policy_change import apply_policy
from tests.conftest import GROUP_SCHEMA, PASSPHRASE, LiveServer
from tests.erasure.support import held_without_push, person, service_for
from tests.list_reads import add_users

SCHEMA = Path(__file__).resolve().parents[2] / "resources" / "schemas" / "subject-export-v1.schema.json"
RECIPIENTS = [
    {"id": "crm", "name": "Acme Cloud CRM Inc.", "kind": "processor", "country": "US",
     "transfer_safeguard": "Standard contractual clauses (EU) 2021/914, module 2",
     "contract_link": "https://contracts.example.test/acme", "purposes": ["access-management"],
     "attributes": ["userName", "displayName"]},
    {"id": "helpdesk", "name": "Bangalore Support Pvt Ltd", "kind": "processor", "country": "IN",
     "transfer_safeguard": "Standard contractual clauses (EU) 2021/914, module 3",
     "contract_link": "https://contracts.example.test/support", "purposes": ["access-management"],
     "attributes": ["userName", "emails.value"]},
    {"id": "wiki", "name": "Team wiki", "kind": "internal", "country": "DE", "purposes": ["internal-directory"],
     "attributes": ["displayName"]},
    {"id": "payroll", "name": "Lohnbüro Schmidt GmbH", "kind": "external_controller", "country": "DE",
     "purposes": ["access-management"], "attributes": ["userName"], "scope": {"groups": ["Payroll"]}},
]  # fmt: skip


def _policy() -> str:
    document = tomlkit.parse(default_policy_text())
    manager = tomlkit.table()
    manager.update(
        {"path": f"{ENTERPRISE_SCHEMA}:manager", "category": "employment", "purposes": ["internal-directory"]}
    )
    document["attributes"].append(manager)
    text = tomlkit.dumps(document)
    for recipient in RECIPIENTS:
        text = add_recipient(text, recipient)
    return text


def test_subject_export_is_complete(vault: Vault, tmp_path: Path) -> None:
    apply_policy(vault, _policy(), "dpo")
    with vault.write_transaction() as conn:
        crm = add_target(conn, TargetConfig(0, "acme", "https://crm.example.test/scim/v2", "crm", "bearer", "s"))
    service = service_for(vault)
    boss = service.create("User", {**person("maria.boss@example.test", "Maria", "Boss"), "displayName": "Maria Boss"})
    body = person("sam.subject@example.test")
    body[ENTERPRISE_SCHEMA] = {"department": "R&D", "manager": {"value": boss.body["id"]}}  # type: ignore[index]
    subject_id = str(service.create("User", body).body["id"])  # type: ignore[index]
    payroll = {"schemas": [GROUP_SCHEMA], "displayName": "Payroll", "members": [{"value": boss.body["id"]}]}  # type: ignore[index]
    service.create("Group", payroll)
    service.close()
    held_without_push(vault, subject_id, {crm.id: "acme-42"})

    received = datetime(2030, 1, 3, tzinfo=UTC)
    with vault.read_connection() as conn:
        record = in_force(conn)
    assert record is not None
    json_path, pdf_path = export_subject(vault, record, subject_id, tmp_path, datetime(2030, 1, 9, tzinfo=UTC),
                                         received=received)  # fmt: skip
    document = json.loads(json_path.read_text())
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))

    assert document["response"]["received"] == "2030-01-03T00:00:00.000000Z"
    # 3 February 2030 is a Sunday: due the next working day, to its end (the controller's zone: UTC here)
    assert document["response"]["answer_by"] == "2030-02-04T23:59:59.999999Z"
    transfers = {t["country"]: t for t in document["transfers"]}
    assert set(transfers) == {"US", "IN"}  # the German recipients are not transfers
    assert transfers["US"]["recipient"] == "Acme Cloud CRM Inc." and "2021/914" in transfers["US"]["safeguard"]
    assert transfers["IN"]["copy_or_reference"] == "https://contracts.example.test/support"
    assert document["automated_decisions"]["exists"] is False
    assert "Art. 22" in document["automated_decisions"]["statement"]
    events = document["trail_events"]
    assert [e["type"] for e in events] == ["scim.resource.created"]
    assert events[0]["actor"] and events[0]["at"].endswith("Z")
    assert document["held_at_targets"][0]["recipient"] == "Acme Cloud CRM Inc."
    manager = document["data"][ENTERPRISE_SCHEMA]["manager"]
    assert manager == {"value": boss.body["id"], "displayName": "Maria Boss"}  # type: ignore[index]
    recipients = {r["name"] for entry in document["attributes"] for r in entry["recipients"]}
    assert "Lohnbüro Schmidt GmbH" not in recipients  # not in the Payroll group: the bureau receives nothing
    assert {"Acme Cloud CRM Inc.", "Bangalore Support Pvt Ltd", "Team wiki"} <= recipients

    text = "\n".join(page.extract_text() for page in PdfReader(pdf_path).pages)
    # The days on the controller's calendar (changed deliberately from the ISO instants; see the test below).
    assert "3 January 2030, UTC" in text and "by the end of 4 February 2030, UTC" in text
    assert "9 January 2030" not in text.split("Answer due")[0] and "2030-01-09" not in text.split("Answer due")[0]
    flat = " ".join(text.split())  # the PDF breaks lines inside table cells
    for expected in ("Art. 15(2)", "Standard contractual clauses", "Maria Boss", "scim.resource.created",
                     "Acme Cloud CRM Inc."):  # fmt: skip
        assert expected in flat, (expected, flat)


def test_the_person_s_trail_events_are_in_time_order(vault: Vault, tmp_path: Path) -> None:
    """The request that read the person is timed when it was answered and written later, in a batch, after a change
    timed after it (decision 0034): the export lists the events as they happened."""
    from app.audit.trail import Event, append

    service = service_for(vault)
    subject_id = str(service.create("User", person("timed.subject@example.test")).body["id"])  # type: ignore[index]
    service.close()
    with vault.read_connection() as conn:
        (created_at,) = conn.exec_driver_sql(
            "SELECT at FROM audit_events WHERE kind = 'scim.resource.created' ORDER BY seq DESC LIMIT 1"
        ).one()
        record = in_force(conn)
    created = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    with vault.write_transaction() as conn:
        later, answered = created + timedelta(seconds=2), created + timedelta(seconds=1)
        append(conn, Event("scim.resource.updated", "token:okta", subject=subject_id, at=later))
        append(conn, Event("scim.request", "token:okta", subject=subject_id, at=answered))  # written after it
    assert record is not None
    json_path, _ = export_subject(vault, record, subject_id, tmp_path, datetime(2030, 1, 9, tzinfo=UTC))
    events = json.loads(json_path.read_text())["trail_events"]
    assert [e["type"] for e in events] == ["scim.resource.created", "scim.request", "scim.resource.updated"]


def test_received_is_checked_on_the_command_line(
    vault: Vault,
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = service_for(vault)
    subject_id = str(service.create("User", person("cli.subject@example.test")).body["id"])  # type: ignore[index]
    service.close()
    vault.close()
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    base = ["export", "subject", "--user-id", subject_id, "--out", str(tmp_path), "--data-dir", str(data_dir)]
    with pytest.raises(SystemExit) as future:
        main([*base, "--received", "2999-01-01"])
    assert future.value.code == 2 and "future" in capsys.readouterr().err
    assert main([*base, "--received", "2024-05-02"]) == 0
    document = json.loads((tmp_path / f"subject-{subject_id}.json").read_text())
    assert document["response"]["received"].startswith("2024-05-02T00:00:00")
    assert document["response"]["answer_by"].startswith("2024-06-03T23:59:59")  # 2 June 2024 was a Sunday


def test_received_on_the_command_line_gets_the_register_deadline(
    vault: Vault,
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`--received` gives the same deadline as the DSR register (Regulation 1182/71, working days, holidays of the
    controller's country), not one calendar month: received Friday 20 November 2026, the corresponding date
    (Sunday 20 December) moves to Monday 21 December; and a bare date is the day where the controller is."""
    apply_policy(vault, _policy(), "dpo")  # the default policy's controller is in Germany (see its address)
    service = service_for(vault)
    subject_id = str(service.create("User", person("due.date@example.test")).body["id"])  # type: ignore[index]
    service.close()
    vault.close()
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    base = ["export", "subject", "--user-id", subject_id, "--out", str(tmp_path), "--data-dir", str(data_dir)]
    settings = ["dsr", "settings", "--country", "DE", "--time-zone", "Europe/Berlin", "--data-dir", str(data_dir)]
    assert main(settings) == 0
    assert main([*base, "--received", "2026-11-20"]) == 0
    document = json.loads((tmp_path / f"subject-{subject_id}.json").read_text())
    assert document["response"]["received"] == "2026-11-19T23:00:00.000000Z"  # 20 Nov, 00:00 in Berlin
    assert document["response"]["answer_by"] == "2026-12-21T22:59:59.999999Z"  # the end of Monday 21 Dec in Berlin
    text = " ".join(
        page.extract_text() for page in PdfReader(tmp_path / f"subject-{subject_id}.pdf").pages
    ).split()
    assert "2026-12-20T00:00:00.000000Z" not in text


def test_the_export_says_that_its_group_membership_events_are_not_listed(vault: Vault, tmp_path: Path) -> None:
    """Being added to a group is processing of the member's data, but the trail records it under the group's
    pseudonym: 'Records of processing about you' listed only the person's creation, as if that were all."""
    service = service_for(vault)
    member = str(service.create("User", person("member.subject@example.test")).body["id"])  # type: ignore[index]
    loner = str(service.create("User", person("loner.subject@example.test")).body["id"])  # type: ignore[index]
    service.create("Group", {"schemas": [GROUP_SCHEMA], "displayName": "Team", "members": [{"value": member}]})
    service.close()
    with vault.read_connection() as conn:
        record = in_force(conn)
    assert record is not None
    json_path, pdf_path = export_subject(vault, record, member, tmp_path / "member", datetime(2030, 1, 9, tzinfo=UTC))
    document = json.loads(json_path.read_text())
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))
    assert [e["type"] for e in document["trail_events"]] == ["scim.resource.created"]
    (note,) = document["trail_not_listed"]
    assert note.startswith("Your joining or leaving the groups above is recorded on the audit trail under each group")
    flat = " ".join(" ".join(page.extract_text() for page in PdfReader(pdf_path).pages).split())
    assert "recorded on the audit trail under each group, not under you" in flat
    alone, _ = export_subject(vault, record, loner, tmp_path / "loner", datetime(2030, 1, 9, tzinfo=UTC))
    assert json.loads(alone.read_text())["trail_not_listed"] == []


def test_after_a_prune_the_export_says_where_the_trail_begins(vault: Vault, tmp_path: Path) -> None:
    """The trail's retention period removed the person's older events (decision 0055): an empty list must not read
    as 'nothing was ever recorded about you'."""
    from tests.audit.prune_support import one_day_trail_policy, prune_three_days_later

    apply_policy(vault, one_day_trail_policy(), "dpo")
    service = service_for(vault)
    subject = str(service.create("User", person("pruned.subject@example.test")).body["id"])  # type: ignore[index]
    service.close()
    _done, later = prune_three_days_later(vault)
    with vault.read_connection() as conn:
        record = in_force(conn)
    assert record is not None
    json_path, _ = export_subject(vault, record, subject, tmp_path / "pruned", later)
    document = json.loads(json_path.read_text())
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))
    assert document["trail_events"] == []
    (note,) = document["trail_not_listed"]
    assert note.startswith(f"The audit trail no longer holds events before {later.date().isoformat()}: its entries")
    assert "are kept for P1D" in note


def test_the_pdf_says_where_the_data_come_from(vault: Vault, tmp_path: Path) -> None:
    """Art. 15(1)(g): data not collected from the person come with any available information on their source. The
    JSON named each attribute's source (the purpose's ``source`` in the policy); the PDF a person reads did not."""
    shipped = 'source = "Identity provider (SCIM 2.0 push)"'
    assert shipped in default_policy_text(), "the shipped default no longer names its sources so"
    text = default_policy_text().replace(shipped, 'source = "Microsoft Entra ID (HR-driven provisioning)"', 1)
    apply_policy(vault, text, "dpo")
    service = service_for(vault)
    subject_id = str(service.create("User", person("sam.source@example.test")).body["id"])  # type: ignore[index]
    service.close()
    with vault.read_connection() as conn:
        record = in_force(conn)
    assert record is not None
    json_path, pdf_path = export_subject(vault, record, subject_id, tmp_path, datetime(2030, 1, 9, tzinfo=UTC))
    sources = {entry["source"] for entry in json.loads(json_path.read_text())["attributes"]}
    assert "Microsoft Entra ID (HR-driven provisioning)" in sources
    flat = " ".join(" ".join(page.extract_text() for page in PdfReader(pdf_path).pages).split())
    assert "Art. 15(1)(g)" in flat
    for source in sources:
        assert source in flat, (source, flat)


def test_the_export_lists_the_person_s_requests_in_the_register(vault: Vault, tmp_path: Path) -> None:
    """The request register holds data about the person (that they asked, when, for what, the answer's state);
    the export listed only the directory's attributes and said "Custos keeps no other attribute about you". Now
    it lists their requests (days and states; the sealed details named, not opened: Art. 15(4))."""
    from app.dsr.register import DsrRegister
    from tests.dsr.dsr_support import ADDRESS, sealed_details, with_person

    subject_id = with_person(vault)
    register = DsrRegister(vault, now=lambda: datetime(2026, 2, 10, 9, tzinfo=UTC))
    request_id = register.open(["access", "erasure"], "letter", "dpo", datetime(2026, 1, 31, 10, tzinfo=UTC),
                               subject_id=subject_id, private=sealed_details())  # fmt: skip
    with vault.read_connection() as conn:
        record = in_force(conn)
    assert record is not None
    json_path, pdf_path = export_subject(vault, record, subject_id, tmp_path, datetime(2026, 2, 10, tzinfo=UTC))
    document = json.loads(json_path.read_text())
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))
    (listed,) = document["requests"]
    assert listed["id"] == request_id and listed["received_day"] == "2026-01-31" and listed["due"] == "2026-03-02"
    assert listed["rights"] == ["Access (Art. 15)", "Erasure (Art. 17)"] and listed["details_sealed"] is True
    flat = " ".join(" ".join(page.extract_text() for page in PdfReader(pdf_path).pages).split())
    assert request_id in flat and "request register" in flat
    assert ADDRESS not in json_path.read_text() and ADDRESS not in flat  # sealed: named as kept, never opened


def test_the_export_lists_the_list_reads_that_returned_the_person(live: LiveServer, tmp_path: Path) -> None:
    """Before: an IdP's ``GET /Users`` through the real server returned the person, the trail named them in that
    entry (decision 0049, ``audit timeline --subject`` lists it), but 'Records of processing about you' matched
    only the subject column and left the read out: the Art. 15 export said less than the trail held."""
    add_users(live, "listed.subject", 2)
    with live.client() as http:
        page = http.get("/Users", params={"filter": 'userName sw "listed.subject"', "count": 10}).json()
    assert live.server.recorder is not None
    live.server.recorder.flush()
    person_id = next(r["id"] for r in page["Resources"] if r["userName"] == "listed.subject1")
    vault = live.server.vault
    with vault.read_connection() as conn:
        record = in_force(conn)
        pseudonym = pseudonym_for(conn, person_id)
    assert record is not None and pseudonym is not None
    with vault.read_connection() as conn:
        trail = [e for e in of_kind(conn, "scim.request", limit=5) if pseudonym in e.details.get(READ_SUBJECTS, [])]
    assert len(trail) == 1  # the trail holds the read: the export must say so

    json_path, pdf_path = export_subject(vault, record, person_id, tmp_path, datetime.now(UTC))
    document = json.loads(json_path.read_text())
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))
    reads = [e for e in document["trail_events"] if e["type"] == "scim.request"]
    assert reads == [{"at": trail[0].at, "type": "scim.request", "actor": "token:test-idp", "outcome": "success",
                      "in_list_read": True}]  # fmt: skip
    flat = " ".join(" ".join(page.extract_text() for page in PdfReader(pdf_path).pages).split())
    assert "scim.request (a list read that returned you)" in flat
