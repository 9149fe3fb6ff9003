"""Issue 12 §7: each statement of the Art. 30 record is derived from what it describes, on a real vault."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook

from app.audit.trail import Event, append
from app.exports.facts import gather_facts
from app.exports.ropa import build_processor_record, build_ropa
from app.incidents.register import IncidentRegister
from app.policy import versions
from app.policy.loader import check_policy
from app.policy.model import NEEDS_HUMAN
from app.services.export import export_ropa
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from tests.policy.test_loader import MINIMAL

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def controller(vault: Vault, text: str | None = None) -> dict[str, dict[str, str]]:
    apply_policy(vault, text or versions.default_policy_text(), "dpo")
    with vault.read_connection() as conn:
        record = versions.in_force(conn)
    assert record is not None
    ropa = build_ropa(record, gather_facts(vault, policy=record.policy), NOW)
    keys = [c.key for c in ropa.columns]
    return {a.id: dict(zip(keys, a.cells, strict=True)) for a in ropa.activities}


def test_the_breach_column_reads_the_breach_register(vault: Vault) -> None:
    register = IncidentRegister(vault)
    detected = datetime.now(UTC) - timedelta(minutes=20)
    candidate = register.open_incident("Odd sign-in pattern", "alice", detected_at=detected)
    rows = controller(vault)
    assert rows["access-management/identifiers"]["breach"] == (
        "No breach recorded in Custos' breach register (1 incident recorded and not established as breaches)"
    )
    aware = datetime.now(UTC) - timedelta(minutes=10)
    register.set_aware(candidate, "alice", "Confirmed: a token was used from an unknown network", aware)
    register.notify(candidate, "alice", "REF-1", datetime.now(UTC) - timedelta(minutes=1))
    rows = controller(vault)
    assert rows["access-management/identifiers"]["breach"].startswith("Yes: 1 personal data breach in")
    assert "1 notified to the supervisory authority" in rows["access-management/identifiers"]["breach"]
    assert "incident 1 (aware " in rows["custos/breach_register"]["breach_record"]


def test_the_trail_is_described_as_holding_personal_data(vault: Vault) -> None:
    security = controller(vault)["access-management/identifiers"]["security"]
    assert "without personal data" not in security
    assert "keyed pseudonyms" in security and "Art. 4(5)" in security and "network addresses" in security
    assert "Organisational: Administrators trained in data protection annually" in security  # no longer lost


def test_own_processing_without_periods_asks_for_them(vault: Vault) -> None:
    text = versions.default_policy_text().split("[own_processing]")[0]
    rows = controller(vault, text)
    for key in ("audit_trail", "breach_register", "erasure_ledger", "dsr_register"):
        assert rows[f"custos/{key}"]["retention"].startswith(f"{NEEDS_HUMAN}: set [own_processing] {key}")
    for key in ("audit_trail", "breach_register", "erasure_ledger"):
        assert rows[f"custos/{key}"]["adherence"] == "No"
    # The request register deletes by its default meanwhile, and the row says so.
    assert rows["custos/dsr_register"]["retention"].endswith("deleted 3 years after closure by the hourly retention "
                                                             "job (the default)")  # fmt: skip


def test_partial_adequacy_is_flagged_as_needing_a_check(vault: Vault) -> None:
    text = versions.default_policy_text() + (
        '\n[[recipients]]\nid = "crm"\nname = "Maple CRM"\nkind = "processor"\ncountry = "CA"\n'
        'contract_link = "https://contracts.example/crm"\npurposes = ["internal-directory"]\n'
        'attributes = ["displayName"]\n'
    )
    rows = controller(vault, text)
    assert rows["internal-directory/names"]["third_countries"] == "CA (Maple CRM)"
    assert "check needed: Canada's decision covers only commercial organisations subject to PIPEDA" in (
        rows["internal-directory/names"]["transfer_safeguards"]
    )


def test_a_policy_without_clients_has_no_processor_rows(vault: Vault) -> None:
    apply_policy(vault, versions.default_policy_text(), "dpo")
    with vault.read_connection() as conn:
        record = versions.in_force(conn)
    assert record is not None
    ropa = build_processor_record(record, gather_facts(vault, policy=record.policy), NOW)
    assert ropa.activities == () and "no processing to record under Art. 30(2)" in ropa.notes[-1]


def test_the_request_register_row_states_the_deletion_it_applies(vault: Vault) -> None:
    """The DSR register deletes closed requests by period (app/dsr/retention.py): the row says which period,
    from where, and whether it is the one the policy declares."""
    rows = controller(vault)
    row = rows["custos/dsr_register"]
    assert "forthcoming" not in row["activity"] and row["activity"].endswith("(0 requests held, 0 of them closed)")
    rule = "closed requests are deleted 3 years after closure by the hourly retention job (from the policy)"
    assert row["adherence"] == f"Yes — {rule}"
    assert row["retention"].endswith(f"enforced: {rule}")
    assert rows["custos/breach_register"]["adherence"] == "No"  # not deleted after its period

    (vault.path.parent / "requests.toml").write_text('retention = "P1Y"\n', encoding="utf-8")
    row = controller(vault)["custos/dsr_register"]
    assert row["adherence"] == "No"
    assert row["adherence_reasons"] == (
        "The period applied differs from the policy: closed requests are deleted 1 year after closure by the "
        "hourly retention job (set in requests.toml), not the policy's 3 years"
    )


def test_the_request_register_deletes_by_the_policy_s_period(vault: Vault) -> None:
    from app.dsr import settings

    text = versions.default_policy_text().replace(
        'dsr_register = { period = "P3Y"', 'dsr_register = { period = "P2Y"'
    )
    apply_policy(vault, text, "dpo")
    with vault.read_connection() as conn:
        record = versions.in_force(conn)
    assert record is not None
    kept = settings.load(vault.path.parent, record.policy)
    assert (kept.retention.iso(), kept.retention_source) == ("P2Y", "policy")
    indefinite = text.replace('dsr_register = { period = "P2Y"', 'dsr_register = { period = "indefinite"')
    assert any("'dsr_register' is deleted by period" in p.message for p in check_policy(indefinite)[1])


def test_periods_are_not_called_applied_when_the_job_is_off(vault: Vault) -> None:
    text = versions.default_policy_text().replace("[retention_job]\nenabled = true", "[retention_job]\nenabled = false")
    rows = controller(vault, text)
    assert "The retention job is disabled in the policy: these periods are not applied automatically" in (
        rows["internal-directory/employment"]["retention"]
    )
    assert rows["internal-directory/employment"]["adherence"] == "No"


def test_the_breach_column_says_yes_only_for_the_activities_whose_data_was_breached(vault: Vault) -> None:
    """ICO column 24 is per processing activity: a breach of names and work contact details is not a breach of
    group membership, nor of Custos' own registers. Before, every row said "Yes" as soon as one breach existed."""
    register = IncidentRegister(vault)
    incident = register.open_incident("Share link exposed", "alice", detected_at=datetime.now(UTC) - timedelta(hours=1))
    register.set_aware(incident, "alice", "Processor confirmed", datetime.now(UTC) - timedelta(minutes=30))
    register.update(incident, "alice", categories=["Names", "Work contact details"])
    register.notify(incident, "alice", "REF-7", datetime.now(UTC) - timedelta(minutes=1))
    rows = controller(vault)
    concerned = [key for key, row in rows.items() if row["breach"].startswith("Yes")]
    assert concerned and all(key.split("/")[1] in ("names", "work-contact") for key in concerned), concerned
    assert "incident 1" in rows[concerned[0]]["breach_record"] and "REF-7" in rows[concerned[0]]["breach_record"]
    membership = next(row for key, row in rows.items() if key.endswith("/membership"))
    assert membership["breach"].startswith("No breach recorded for this activity's data")
    assert "incident 1" in membership["breach"]  # the register's other breaches are named, not hidden
    assert rows["custos/dsr_register"]["breach"].startswith("No breach recorded for this activity's data")

    # Without recorded categories a breach may concern any activity: every row says so.
    other = register.open_incident("Laptop stolen", "alice", detected_at=datetime.now(UTC) - timedelta(hours=1))
    register.set_aware(other, "alice", "Laptop confirmed stolen", datetime.now(UTC) - timedelta(minutes=5))
    rows = controller(vault)
    assert all(row["breach"].startswith("Yes") for row in rows.values())
    assert "categories not recorded" in rows["custos/dsr_register"]["breach_record"]
    # ... and says why it counts the breach there: not known to concern it, only not ruled out.
    assert rows["custos/dsr_register"]["breach"].endswith(
        "(1 with no data categories recorded: counted as possibly concerning this activity)"
    )
    names = next(row for key, row in rows.items() if key.endswith("/names"))
    assert names["breach"].startswith("Yes: 2 personal data breaches in")
    assert "1 with no data categories" in names["breach"]


def test_adherence_is_no_while_the_vault_holds_data_past_its_period(vault: Vault) -> None:
    """'Yes — retention job enabled; last run …' rested on the job's runs alone: a run that erased nothing (its
    erasure failed, or a scope left the account out) read as adherence while the account stayed past its period."""
    from sqlalchemy import update

    from app.directory import repository as repo
    from app.erasure.retention import run_once
    from app.policy.in_force import PolicyInForce
    from app.store.models import ScimResource

    apply_policy(vault, versions.default_policy_text(), "dpo")
    now = datetime.now(UTC)
    document = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "gone@example.test",
                "title": "Engineer", "active": False}  # fmt: skip
    with vault.write_transaction() as conn:
        repo.insert_resource(conn, "User", "00000000-0000-0000-0000-00000000d0e5", document, now)
        table = ScimResource.__table__
        long_ago = now - timedelta(days=60)
        conn.execute(update(table).where(table.c.user_name.is_not(None)).values(deactivated_at=long_ago))
        append(conn, Event("retention.run", "system:retention", details={"purges": 0, "subjects": 0}))

    def adherence(activity: int = 0) -> tuple[str, str]:
        with vault.read_connection() as conn:
            record = versions.in_force(conn)
        assert record is not None
        ropa = build_ropa(record, gather_facts(vault, policy=record.policy), datetime.now(UTC))
        row = dict(zip([c.key for c in ropa.columns], ropa.activities[activity].cells, strict=True))
        return row["adherence"], row["adherence_reasons"]

    answer, reasons = adherence()
    assert answer == "No"
    assert "1 deactivated account past its retention period" in reasons
    assert "gone@example.test" not in reasons

    run_once(vault, PolicyInForce(vault))  # the job does its work: nothing is overdue any more
    answer, reasons = adherence()
    assert answer.startswith("Yes — retention job enabled; last run ") and reasons == "Not applicable (adhering)"

    # Deactivated 10 days ago: within the account's 30 days, past the 7 days of employment details. Only the rows
    # of that category answer No; the account itself is kept lawfully.
    with vault.write_transaction() as conn:
        document = {**document, "userName": "leaver@example.test"}
        repo.insert_resource(conn, "User", "00000000-0000-0000-0000-0000000011ea", document, now)
        ten_days = now - timedelta(days=10)
        conn.execute(update(table).where(table.c.user_name == "leaver@example.test").values(deactivated_at=ten_days))
    with vault.read_connection() as conn:
        record = versions.in_force(conn)
    assert record is not None
    names = [a.id for a in build_ropa(record, gather_facts(vault, policy=record.policy), now).activities]
    answer, reasons = adherence(names.index("internal-directory/employment"))
    assert answer == "No" and reasons.startswith(
        "The vault still holds 1 deactivated account still holding data of Employment details past its retention"
    )
    assert adherence(names.index("access-management/identifiers"))[0].startswith("Yes — retention job enabled")


def test_a_missing_ledger_is_not_read_as_no_erasure(vault: Vault) -> None:
    """The ledger row said 'no ledger file yet (no erasure has been carried out)' whenever the file was absent,
    also when the vault records erasures: the ledger lost, the record claimed nothing had been erased."""
    from app.erasure.ledger import LEDGER_FILENAME
    from app.erasure.requests import request_erasure
    from tests.erasure.support import person, service_for

    service = service_for(vault)
    subject = str(service.create("User", person("ledger.subject@example.test")).body["id"])  # type: ignore[index]
    service.close()
    request_erasure(vault, [subject], "art17-1a", "dpo")
    ledger = vault.path.parent / LEDGER_FILENAME
    assert ledger.exists()
    title = next(a for a in build_ropa_now(vault) if a.startswith("custos/erasure_ledger"))
    assert title.endswith("Erasure ledger (1 entry held)")

    ledger.unlink()
    title = next(a for a in build_ropa_now(vault) if a.startswith("custos/erasure_ledger"))
    assert "no erasure has been carried out" not in title
    assert "NO LEDGER FILE, though the vault records 1 erased subject:" in title


def build_ropa_now(vault: Vault) -> list[str]:
    """The activity names of the controller record under the policy in force, gathered now."""
    with vault.read_connection() as conn:
        record = versions.in_force(conn)
    assert record is not None
    ropa = build_ropa(record, gather_facts(vault, policy=record.policy), datetime.now(UTC))
    keys = [c.key for c in ropa.columns]
    return [dict(zip(keys, a.cells, strict=True))["activity"] for a in ropa.activities]


def test_the_transport_measure_from_the_command_line_allows_for_plain_http(vault: Vault) -> None:
    """The command line cannot see how the endpoint runs: its default must hold for `serve --no-tls` as well."""
    security = controller(vault)["access-management/identifiers"]["security"]
    assert "TLS 1.2+ on the SCIM endpoint" in security
    assert "unless started without TLS (serve --no-tls), which is accepted on the loopback interface only" in security


def test_an_overdue_categorys_row_counts_only_the_accounts_holding_that_category(vault: Vault) -> None:
    """Two categories past their period, each held by a different leaver: the Employment details row read '2
    deactivated account(s) still holding data of Employment details, Names', though one account held a title."""
    from sqlalchemy import update

    from app.directory import repository as repo
    from app.store.models import ScimResource

    names_kept_a_week = versions.default_policy_text()  # Names kept a week after the account is deactivated
    start = names_kept_a_week.find('id = "names"')
    end = names_kept_a_week.find("[[categories]]", start)
    section = names_kept_a_week[start:end]
    week = section.replace('period = "account"', 'period = "P7D"')
    apply_policy(vault, names_kept_a_week[:start] + week + names_kept_a_week[end:], "dpo")
    now = datetime.now(UTC)
    user = "urn:ietf:params:scim:schemas:core:2.0:User"
    with vault.write_transaction() as conn:
        repo.insert_resource(conn, "User", "00000000-0000-0000-0000-0000000011eb",
                             {"schemas": [user], "userName": "t@example.test", "title": "Engineer", "active": False},
                             now)  # fmt: skip
        repo.insert_resource(conn, "User", "00000000-0000-0000-0000-0000000011ec",
                             {"schemas": [user], "userName": "n@example.test", "name": {"givenName": "Ada"},
                              "active": False}, now)  # fmt: skip
        table = ScimResource.__table__
        conn.execute(update(table).values(deactivated_at=now - timedelta(days=10)))
        append(conn, Event("retention.run", "system:retention", details={"purges": 0, "subjects": 0}))
    with vault.read_connection() as conn:
        record = versions.in_force(conn)
    assert record is not None
    ropa = build_ropa(record, gather_facts(vault, policy=record.policy), now)
    keys = [c.key for c in ropa.columns]
    rows = {a.id: dict(zip(keys, a.cells, strict=True)) for a in ropa.activities}
    employment = rows["internal-directory/employment"]
    assert employment["adherence"] == "No"
    assert employment["adherence_reasons"].startswith(
        "The vault still holds 1 deactivated account still holding data of Employment details past its retention"
    )


def test_a_client_with_only_a_name_says_requires_human_completion_once_per_cell(vault: Vault) -> None:
    """A [[processor.controllers]] entry with only its name (and a DPO with only a name) read "Beispiel Stiftung;
    Requires human completion; Requires human completion" in one cell of the processor record."""
    text = versions.default_policy_text() + (
        '\n[[processor.controllers]]\nname = "Beispiel Stiftung"\nprocessing = "Directory provisioning"\n'
        'dpo = { name = "Stiftung DPO" }\n'
    )
    apply_policy(vault, text, "dpo")
    with vault.read_connection() as conn:
        record = versions.in_force(conn)
    assert record is not None
    ropa = build_processor_record(record, gather_facts(vault, policy=record.policy), NOW)
    (client,) = ropa.activities
    for key in ("controller", "controller_dpo"):
        assert ropa.cell(client, key).count(NEEDS_HUMAN) == 1, key
    assert ropa.cell(client, "controller") == f"Beispiel Stiftung; {NEEDS_HUMAN}: address, e-mail"
    assert ropa.cell(client, "controller_dpo") == f"Stiftung DPO; {NEEDS_HUMAN}: address, e-mail"


def test_a_scoped_purpose_counts_only_the_users_in_its_scope(vault: Vault) -> None:
    """With payroll scoped to people with an employee number, its rows said "2 currently hold data of this
    category" for names and identifiers: everyone holding the category, in payroll's scope or not (the README says
    the Art. 30 counts follow a purpose's scope)."""
    from app.core.events import EventBus
    from app.policy.in_force import PolicyInForce
    from app.scim.service import ScimService
    from tests.conftest import USER_SCHEMA, new_user
    from tests.exports.realistic import ENTERPRISE, REALISTIC

    retention = 'deactivated_account_retention = { period = "P3M", justification = "Final payroll run and ' \
                'corrections" }'  # fmt: skip
    assert retention in REALISTIC
    text = REALISTIC.replace(retention, f"{retention}\nscope = {{ filter = '{ENTERPRISE}:employeeNumber pr' }}")
    apply_policy(vault, text, "dpo")
    service = ScimService(vault, "https://scim.test/scim/v2", EventBus(), PolicyInForce(vault))
    try:
        employee = new_user("anna@beispiel.example", displayName="Anna", schemas=[USER_SCHEMA, ENTERPRISE],
                            **{ENTERPRISE: {"employeeNumber": "1001"}})  # fmt: skip
        for body in (employee, new_user("ben@contractor.example", displayName="Ben")):
            assert service.create("User", body).status == 201
    finally:
        service.close()
    rows = controller(vault, text)
    in_scope = f"users matching {ENTERPRISE}:employeeNumber pr; 1 currently holds data of this category"
    for key in ("payroll/identifiers", "payroll/names", "payroll/employment"):
        assert rows[key]["individuals"] == f"Employees (SCIM Users in this purpose's scope, {in_scope})", key
    # An unscoped purpose still counts everyone holding the data.
    everyone = "(SCIM Users; 2 currently hold data of this category)"
    assert rows["access-management/names"]["individuals"].endswith(everyone)


def test_the_source_names_authorised_clients_and_which_never_pushed(vault: Vault) -> None:
    """Without a purpose's own ``source``, the cell is built from the tokens; it called every unrevoked token a
    client the data came from, although one that never authenticated has sent nothing."""
    from app.setup.tokens import TokenStore

    tokens = TokenStore(vault)
    _, secret = tokens.create("entra-prod")
    tokens.create("okta-test")
    client = tokens.verify(secret)
    assert client is not None
    tokens.record_use(client.token_id, "192.0.2.10")
    text = versions.default_policy_text().replace('source = "Identity provider (SCIM 2.0 push)"\n', "")
    source = controller(vault, text)["access-management/identifiers"]["source"]
    assert source == "Identity provider via SCIM 2.0 push (authorised clients: entra-prod, okta-test (never used))"


def test_the_measures_count_one_token_and_the_trail_in_agreement(vault: Vault) -> None:
    """The Art. 32 measures read "1 active token(s)"; one token, and the trail's events, are said as counted."""
    from app.services.tokens import store

    store(vault).create("idp")
    measures = " ".join(gather_facts(vault).technical_measures())
    assert "optionally expiring); 1 active token" in measures and "token(s)" not in measures
    assert re.search(r"holding \d+ events\. ", measures) and "event(s)" not in measures


def test_the_audit_trail_row_states_the_last_prune(vault: Vault) -> None:
    """Once the trail is pruned (decision 0055), its row gives the evidence: when, which entries, from which
    signed checkpoint the trail verifies, and the oldest entry held."""
    from tests.audit.prune_support import one_day_trail_policy, prune_three_days_later

    text = one_day_trail_policy()
    apply_policy(vault, text, "dpo")
    done, _later = prune_three_days_later(vault)
    row = controller(vault, text)["custos/audit_trail"]
    n = done.plan.last_seq
    assert row["retention"].startswith("1 day after the entry was made; ")
    assert "; enforced: entries older than the period are removed by the retention job once a day" in row["retention"]
    assert re.search(
        rf"; last prune on \d{{4}}-\d\d-\d\d: entries 1–{n} removed \(audit entry {done.record.seq}\), the trail "
        rf"verified from the signed checkpoint at {n} \([0-9a-f]{{16}}\); oldest entry held \d{{4}}-\d\d-\d\d$",
        row["adherence"],
    ), row["adherence"]
    assert row["adherence"].startswith("Yes — ")


def test_a_stored_version_with_a_control_character_still_exports_its_xlsx_record(vault: Vault, tmp_path: Path) -> None:
    """The XLSX record of such a version ended in IllegalCharacterError (a traceback): the character is shown as
    U+FFFD in the cell, as the registers already do."""
    with vault.write_transaction() as conn:
        versions.insert_version(conn, MINIMAL.replace('name = "Access"', 'name = "Access\\u001b[2J"'), "earlier")
    written = export_ropa(vault, "xlsx", tmp_path / "ropa.xlsx", "controller", "dpo")
    cells = [str(c.value) for row in load_workbook(written.file.path)["Template"].iter_rows() for c in row if c.value]
    assert any("Access\ufffd[2J" in cell for cell in cells) and not any("\x1b" in cell for cell in cells)


def test_the_audit_trail_row_names_the_unanswered_request_that_holds_entries(vault: Vault) -> None:
    """Before: the row said entries past the period are removed except those a SIEM has not acknowledged and an
    open incident's window, while the job also keeps every entry about a person whose access request is not
    answered yet (the answer lists them): the Art. 30 record understated what is kept past the period."""
    from app import trail_retention
    from app.dsr.register import DsrRegister
    from app.policy.in_force import PolicyInForce
    from tests.audit.prune_support import one_day_trail_policy
    from tests.dsr.dsr_support import with_person

    text = one_day_trail_policy()
    person = with_person(vault, "held.for.an.answer@example.org")
    apply_policy(vault, text, "dpo")
    later = datetime.now(UTC) + timedelta(days=3)
    with vault.write_transaction() as conn:
        append(conn, Event("token.created", "operator:dpo", details={"name": "x"}, at=later))
    DsrRegister(vault, now=lambda: later).open(["access"], "email", "dpo", later - timedelta(days=1), subject_id=person)
    plan = trail_retention.plan(vault, PolicyInForce(vault), later)
    assert plan is not None and [h.why.endswith("its answer lists the person's events") for h in plan.holds] == [True]
    row = controller(vault, text)["custos/audit_trail"]
    assert "a person whose access or portability request is not yet answered are kept" in row["adherence"]
    assert "a person whose access or portability request is not yet answered are kept" in row["retention"]


def test_the_backup_measure_says_what_the_trail_shows_of_backups_and_destroyed_epochs(
    vault: Vault, tmp_path: Path
) -> None:
    """Was: "Encrypted vault backups …, as the operator schedules them: Requires human completion", whatever the
    vault had done. Now it says how many backups are recorded and how many key epochs were destroyed (0067)."""
    from app.erasure.backup import backup
    from app.services import backup_keys

    def backup_cell() -> str:
        with vault.read_connection() as conn:
            record = versions.in_force(conn)
        assert record is not None
        ropa = build_ropa(record, gather_facts(vault, policy=record.policy), NOW)
        return ropa.activities[0].facets["security_backup"]

    apply_policy(vault, versions.default_policy_text(), "dpo")
    assert "no backup recorded; no epoch destroyed yet" in backup_cell()
    backup(vault, tmp_path / "a.vault")
    backup_keys.rotate(vault)
    backup(vault, tmp_path / "b.vault")
    backup_keys.destroy(vault, 1)
    today = datetime.now(UTC).date().isoformat()
    cell = backup_cell()
    assert f"2 backups recorded, the last on {today}; 1 epoch destroyed, the last on {today}" in cell
    assert cell.endswith(f"Schedule, storage and when epochs are destroyed: {NEEDS_HUMAN}")
