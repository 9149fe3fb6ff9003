"""Issue 12 "Done means": every format of the Art. 30 record, exported with the realistic policy through the real
CLI on a real vault, read back with the libraries an auditor would use, and each Art. 30(1)(a)–(g) and 30(2) item
checked for presence *and* truth against the policy and the breach register."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from app.audit.vault_lifecycle import create_vault
from app.core.events import EventBus
from app.core.paths import resources_dir
from app.exports.ropa import content_hash
from app.incidents.register import IncidentRegister
from app.policy.in_force import PolicyInForce
from app.scim.service import ScimService
from app.targets.config import TargetConfig, add_target
from app.targets.policy_change import apply_policy
from tests.cli.inprocess import run
from tests.conftest import PASSPHRASE, USER_SCHEMA, new_user
from tests.exports.realistic import ENTERPRISE, REALISTIC

# The ICO controller template's 30 column headings, A–AD (requirements §2.2), as the sheet must start.
ICO_HEADINGS = (
    "Business function", "Purpose of processing", "Name and contact details of joint controller",
    "Categories of individuals", "Categories of personal data", "Categories of recipients",
    "Link to contract with processor", "Names of third countries or international organisations",
    "Safeguards for exceptional transfers", "Retention schedule", "General description of technical and organisational",
    "Article 6 lawful basis", "Article 9 condition", "Legitimate interests for the processing",
    "Link to record of legitimate interests assessment", "Rights available to individuals",
    "Existence of automated decision-making", "The source of the personal data", "Link to record of consent",
    "Location of personal data", "Data Protection Impact Assessment required?",
    "Data Protection Impact Assessment progress", "Link to Data Protection Impact Assessment",
    "Has a personal data breach occurred?", "Link to record of personal data breach",
    "Data Protection Act 2018 Schedule 1 Condition for processing", "GDPR Article 6 lawful basis for processing",
    "Link to retention and erasure policy document",
    "Is personal data retained and erased in accordance with the policy document?",
    "Reasons for not adhering to policy document",
)  # fmt: skip
PEOPLE = (
    new_user("anna@beispiel.example", displayName="Anna", emails=[{"value": "anna@beispiel.example"}],
             entitlements=[{"value": "additional-leave-sgb-ix"}], schemas=[USER_SCHEMA, ENTERPRISE],
             **{ENTERPRISE: {"employeeNumber": "1001"}}),
    new_user("ben@contractor.example", displayName="Ben", emails=[{"value": "ben@contractor.example"}]),
)  # fmt: skip
OWN = ("custos/audit_trail", "custos/breach_register", "custos/erasure_ledger", "custos/dsr_register")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One vault: the realistic policy, two SCIM targets (the payroll bureau has none), a notified breach."""
    data_dir = tmp_path_factory.mktemp("data")
    out = tmp_path_factory.mktemp("out")
    vault = create_vault(data_dir, PASSPHRASE, PASSPHRASE)
    try:
        apply_policy(vault, REALISTIC, "dpo")
        service = ScimService(vault, "https://scim.test/scim/v2", EventBus(), PolicyInForce(vault))
        try:
            for body in PEOPLE:
                assert service.create("User", body).status == 201
        finally:
            service.close()
        with vault.write_transaction() as conn:
            for name, recipient in (("hr-cloud-prod", "hr-cloud"), ("ticketing-prod", "ticketing")):
                add_target(conn, TargetConfig(0, name, f"https://{name}.example/scim/v2", recipient, secret="t"))
        register = IncidentRegister(vault)
        now = datetime.now(UTC)
        incident = register.open_incident("Lost laptop", "alice", detected_at=now - timedelta(hours=5))
        register.set_aware(incident, "alice", "Laptop confirmed lost, disk not encrypted", now - timedelta(hours=4))
        register.notify(incident, "alice", "BlnBDI-2026-0042", now - timedelta(hours=1))
        register.open_incident("Phishing mail, nobody clicked", "alice")  # a candidate, not a breach
    finally:
        vault.close()
    files = {
        "xlsx": out / "ropa.xlsx", "ods": out / "ropa.ods", "csv": out / "ropa.csv", "json": out / "ropa.json",
        "pdf": out / "ropa.pdf", "cnil": out / "ropa-cnil.ods", "processor.json": out / "processor.json",
        "processor.csv": out / "processor.csv",
    }  # fmt: skip
    for key, path in files.items():
        record = ["--record", "processor"] if key.startswith("processor") else []
        fmt = ["--format", "cnil"] if key == "cnil" else []
        result = run(data_dir, "export", "ropa", "--out", str(path), *fmt, *record, "--operator", "dpo")
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[0] == f"Wrote {path} (sha256 {result.stdout.split('sha256 ')[1][:64]})"
    return files


def controller_rows(files: dict[str, Path]) -> list[dict[str, str]]:
    """The controller record as the XLSX holds it: one dict per row, keyed by header."""
    sheet = load_workbook(files["xlsx"])["Template"]
    headers = [cell.value for cell in sheet[9]]
    return [
        dict(zip(headers, (c.value or "" for c in row), strict=True))
        for row in sheet.iter_rows(min_row=10)
        if row[0].value
    ]


def read_ods(path: Path) -> dict[str, pd.DataFrame]:
    """Every sheet as text ("None" stays "None": pandas would read it as missing)."""
    return pd.read_excel(path, engine="odf", sheet_name=None, header=None, dtype=str, keep_default_na=False)


def by_activity(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row["Processing activity ID / name"].split(":")[0]: row for row in rows}


def column(rows: dict[str, dict[str, str]], key: str, heading: str) -> str:
    row = rows[key]
    return next(value for name, value in row.items() if name.startswith(heading))


# -- layout ------------------------------------------------------------------------------------------------------
def test_xlsx_columns_are_the_ico_columns_in_order_then_custos_own(exported: dict[str, Path]) -> None:
    sheet = load_workbook(exported["xlsx"])["Template"]
    headers = [cell.value for cell in sheet[9]]
    assert len(headers) == 33
    for heading, expected in zip(headers[:30], ICO_HEADINGS, strict=True):
        assert heading.startswith(expected), (heading, expected)  # one ICO column each, none merged
    assert headers[30:] == [
        "Processing activity ID / name",
        "Software / application (SCIM target system)",
        "Record created / last updated / version hash",
    ]
    # Art. 30(1)(a) in the ICO's contact block: controller and DPO with name, address and email.
    assert [sheet.cell(row=r, column=1).value for r in (3, 4)] == ["Controller", "Data Protection Officer"]
    assert sheet.cell(row=3, column=2).value == "Beispiel GmbH"
    assert sheet.cell(row=3, column=3).value == "Musterstraße 1, 10115 Berlin, Germany"
    assert sheet.cell(row=4, column=2).value == "Dr. Erika Muster, DSB Extern GmbH (external DPO)"
    assert sheet.cell(row=4, column=4).value == "dsb@dsb-extern.example"


# -- Art. 30(1)(b)–(g), true against the policy -------------------------------------------------------------------
def test_each_art30_1_item_is_present_and_true(exported: dict[str, Path]) -> None:
    rows = by_activity(controller_rows(exported))
    purpose_rows = [key for key in rows if not key.startswith("custos/")]
    assert {key.split("/")[0] for key in purpose_rows} == {"access-management", "internal-directory", "payroll"}

    # (b) purposes; (c) individuals and data categories, with the attributes actually catalogued.
    assert column(rows, "payroll/health", "Purpose of processing").startswith("Payroll: Pay salaries")
    assert column(rows, "payroll/health", "Categories of individuals") == (
        "Employees (SCIM Users; 1 currently holds data of this category)"  # only Anna has the entitlement
    )
    assert "entitlements" in column(rows, "payroll/health", "Categories of personal data")
    assert "Contractors" in column(rows, "access-management/identifiers", "Categories of individuals")

    # (d) recipients: the payroll bureau has no SCIM target and is listed all the same.
    recipients = column(rows, "payroll/health", "Categories of recipients")
    bureau = "Lohnbüro Schmidt Steuerberatung: External organisation (controller)"
    assert recipients == f"{bureau} (users matching {ENTERPRISE}:employeeNumber pr: 1 data subject)"  # Anna
    assert "Lohnbüro Schmidt Steuerberatung (no SCIM target configured)" in column(
        rows, "payroll/health", "Software / application"
    )
    assert "HR Cloud Inc.: Processor (Art. 28)" in column(rows, "access-management/identifiers", "Categories of rec")
    assert "hr-cloud-prod (HR Cloud Inc., hr-cloud-prod.example)" in column(
        rows, "access-management/identifiers", "Software / application"
    )
    # The directory does not send names to HR Cloud: its purposes do not include the directory.
    assert "HR Cloud" not in column(rows, "internal-directory/names", "Categories of recipients")

    # (e) transfers: the US and India, each with its SCCs; Germany is not a third country.
    countries = column(rows, "access-management/identifiers", "Names of third countries")
    assert countries == "US (HR Cloud Inc.); IN (Ticketing Services Pvt Ltd)"
    safeguards = column(rows, "access-management/identifiers", "Safeguards for exceptional transfers")
    assert safeguards.count("EU Standard Contractual Clauses 2021/914, module 2") == 2
    assert column(rows, "payroll/health", "Names of third countries") == "None (no recipient outside the EEA)"

    # (f) retention per purpose and category: each purpose's own account period.
    assert "1 day after deactivation" in column(rows, "payroll/health", "Retention schedule")
    assert "3 months after deactivation for this purpose" in column(rows, "payroll/health", "Retention schedule")
    assert "14 days after deactivation for this purpose" in column(rows, "internal-directory/names", "Retention")
    assert "30 days" in column(rows, "access-management/identifiers", "Retention")

    # (g) security: measures in force, what the trail holds (never "without personal data"), organisational ones.
    security = column(rows, "payroll/health", "General description of technical")
    assert "Encryption at rest" in security and "Berechtigungskonzept v3" in security
    assert "without personal data" not in security and "keyed pseudonyms" in security
    assert "operator names" in security and "network addresses" in security


def test_art9_national_law_and_the_breach_column(exported: dict[str, Path]) -> None:
    rows = by_activity(controller_rows(exported))
    art9 = column(rows, "payroll/health", "Article 9 condition")
    assert art9 == "entitlements: Art. 9(2)(b) employment, social security and social protection law"
    assert column(rows, "payroll/health", "Data Protection Act 2018 Schedule 1") == "§ 26(3) BDSG; § 208 SGB IX"
    assert column(rows, "payroll/health", "GDPR Article 6 lawful basis") == "Art. 6(1)(b) performance of a contract"
    assert column(rows, "payroll/health", "Data Protection Impact Assessment required?") == "Yes"
    assert column(rows, "payroll/health", "Link to Data Protection Impact Assessment").endswith("/dsfa/payroll")
    assert column(rows, "payroll/names", "Article 9 condition") == "Not applicable (no special category data)"

    # From the register itself: one breach, notified; the dismissed candidate is not a breach.
    breach = column(rows, "payroll/health", "Has a personal data breach occurred?")
    assert breach.startswith("Yes: 1 personal data breach in") and "1 notified" in breach
    assert "incident 1" in column(rows, "payroll/health", "Link to record of personal data breach")
    assert "BlnBDI-2026-0042" in column(rows, "payroll/health", "Link to record of personal data breach")


def test_custos_own_processing_rows(exported: dict[str, Path]) -> None:
    rows = by_activity(controller_rows(exported))
    for key in OWN:
        assert column(rows, key, "Article 6 lawful basis").startswith("Art. 6(1)(c) legal obligation")
        assert "Accountability" in column(rows, key, "Purpose of processing")
    assert column(rows, "custos/audit_trail", "Retention schedule").startswith("3 years after the entry was made")
    # The trail is pruned after its period (decision 0055): the record says how, and that nothing was due yet.
    trail = column(rows, "custos/audit_trail", "Is personal data retained")
    assert trail.startswith("Yes — entries older than the period are removed by the retention job once a day, up")
    assert trail.endswith("nothing pruned so far")
    assert column(rows, "custos/audit_trail", "Reasons for not adhering") == "Not applicable (adhering)"
    assert "declared indefinite" in column(rows, "custos/erasure_ledger", "Is personal data retained")
    held = rows["custos/dsr_register"]["Processing activity ID / name"]
    assert held.endswith("(0 requests held, 0 of them closed)")
    assert column(rows, "custos/dsr_register", "Is personal data retained").startswith(
        "Yes — closed requests are deleted 3 years after closure by the hourly retention job (from the policy)"
    )


# -- every other format says the same ---------------------------------------------------------------------------
def test_csv_starts_with_controller_and_dpo_then_the_same_rows(exported: dict[str, Path]) -> None:
    with exported["csv"].open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0][0].startswith("Record of processing activities (Art. 30(1) GDPR)")
    assert lines[2][:4] == ["Controller", "Beispiel GmbH", "Musterstraße 1, 10115 Berlin, Germany",
                            "datenschutz@beispiel.example"]  # fmt: skip
    assert lines[3][:2] == ["Data Protection Officer", "Dr. Erika Muster, DSB Extern GmbH (external DPO)"]
    # The telephone "+49 30 1234567" opened in Excel as a formula (#NULL!): in CSV, where cells have no type, a
    # cell starting like a formula is marked as text; no cell of the file starts like one unmarked.
    assert lines[2][4] == "'+49 30 1234567"
    assert not [cell for line in lines for cell in line if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    header = lines[8]
    frame = pd.DataFrame(lines[9:], columns=header)
    xlsx = pd.DataFrame(controller_rows(exported))
    ids = [name.split(":")[0] for name in frame["Processing activity ID / name"]]
    assert ids == [name.split(":")[0] for name in xlsx["Processing activity ID / name"]]
    assert list(frame[header[4]]) == list(xlsx[header[4]])  # categories of personal data, row by row


def test_ods_holds_the_same_template(exported: dict[str, Path]) -> None:
    sheets = read_ods(exported["ods"])
    assert list(sheets) == ["Template", "Processor record", "About this export"]
    template = sheets["Template"].fillna("")
    assert template.iloc[2, 1] == "Beispiel GmbH"
    assert list(template.iloc[8, :30]) == [c.value for c in load_workbook(exported["xlsx"])["Template"][9]][:30]
    # The trail's head is named for what it is: the newest entry, not a signed checkpoint (`audit verify`).
    about = {row[0]: row[1] for row in load_workbook(exported["xlsx"])["About this export"].iter_rows(values_only=True)}
    assert re.fullmatch(r"audit event #\d+ \(the trail's newest entry when this record was generated; not a signed "
                        r"checkpoint\), chain hash [0-9a-f]{64}", about["Audit trail checkpoint"])  # fmt: skip


def test_the_about_sheet_names_each_record_s_article_once(exported: dict[str, Path]) -> None:
    """Before: 'Record of processing activities (Art. 30(1) GDPR) — … (Art. 30(1) GDPR)', the article appended to
    a title that already named it; an auditor reads that as two records or a careless one."""
    rows = load_workbook(exported["xlsx"])["About this export"].iter_rows(values_only=True)
    records = [str(row[1]) for row in rows if row[0] == "Record"]
    assert len(records) == 2, records
    for record, article in zip(records, ("30(1)", "30(2)"), strict=True):
        assert record.startswith(f"Record of processing activities (Art. {article} GDPR")
        assert record.count("Art. 30") == 1
    ods = read_ods(exported["ods"])["About this export"].fillna("")
    assert [str(v) for v in ods[ods[0] == "Record"][1]] == records


def test_json_validates_and_its_hash_recomputes(exported: dict[str, Path]) -> None:
    schema = json.loads((resources_dir() / "schemas" / "ropa-v1.schema.json").read_text(encoding="utf-8"))
    for key in ("json", "processor.json"):
        document: dict[str, Any] = json.loads(exported[key].read_text(encoding="utf-8"))
        jsonschema.validate(document, schema)
        assert content_hash(document) == document["content_hash"]
    controller = json.loads(exported["json"].read_text(encoding="utf-8"))
    assert [c["ico"] for c in controller["columns"][:30]] == [str(n) for n in range(1, 31)]
    art9 = next(c for c in controller["columns"] if c["key"] == "art9")
    assert art9["gdpr"] == "9(2)"  # not "30(1)(c)"
    assert {a["id"] for a in controller["activities"]} >= set(OWN)


def test_pdf_says_the_same_and_ends_with_a_sign_off(exported: dict[str, Path]) -> None:
    text = "\n".join(page.extract_text() for page in PdfReader(exported["pdf"]).pages)
    flat = " ".join(text.split())
    assert "Beispiel GmbH" in flat and "dsb@dsb-extern.example" in flat
    assert "Article 9 condition for processing special category data — Art. 9(2)" in flat
    assert "special category data — Art. 30(1)(c)" not in flat
    assert "§ 26(3) BDSG" in flat and "BlnBDI-2026-0042" in flat
    for field in ("Sign-off", "Name", "Role", "Date", "Signature"):
        assert field in flat
    # Each record ends with its sign-off: the controller's before the processor's record, and the last one last.
    assert flat.index("Sign-off") < flat.index("Art. 30(2) GDPR, processor")
    assert flat.rindex("Sign-off") > flat.rindex("Beispiel Holding AG")


def test_cnil_model_one_french_form_per_activity(exported: dict[str, Path]) -> None:
    sheets = read_ods(exported["cnil"])
    rows = controller_rows(exported)
    forms = [name for name in sheets if name.startswith("Fiche ")]
    assert len(forms) == len(rows)
    assert next(iter(sheets)) == "Responsable du traitement"
    organisation = sheets["Responsable du traitement"].fillna("")
    assert "Beispiel GmbH" in organisation[1].tolist() and "dsb@dsb-extern.example" in organisation[1].tolist()
    payroll = next(
        frame.fillna("") for name, frame in sheets.items() if name.startswith("Fiche ") and
        str(frame.iloc[0, 1]).startswith("payroll/health")
    )  # fmt: skip
    fields = dict(zip(payroll[0], payroll[1], strict=True))
    assert fields["Finalité(s) du traitement"].startswith("Payroll")
    assert fields["Organismes externes"] == "Lohnbüro Schmidt Steuerberatung"
    assert fields["Sous-traitants"] == "None"
    assert fields["Fondement en droit national (article 9(2)(b), (g) à (j))"] == "§ 26(3) BDSG; § 208 SGB IX"
    assert "Encryption at rest" in fields["Chiffrement des données"]
    assert "audit trail" in fields["Mesures de traçabilité"]
    assert any(name.startswith("Sous-traitant") for name in sheets)  # the processor's own register


# -- Art. 30(2) ---------------------------------------------------------------------------------------------------
def test_processor_record_items(exported: dict[str, Path]) -> None:
    record = json.loads(exported["processor.json"].read_text(encoding="utf-8"))
    contacts = {c["role"]: c for c in record["contacts"]}
    assert contacts["Processor"]["name"] == "Beispiel GmbH (as processor)"  # (a) the processor
    assert contacts["Processor's Data Protection Officer"]["email"] == "dsb@dsb-extern.example"  # (a) its DPO
    assert contacts["Processor's representative"]["name"].startswith("Not applicable")  # (a) none declared
    (client,) = record["activities"]
    cells = client["cells"]
    assert cells["controller"].startswith("Beispiel Holding AG; Hauptplatz 2")  # (a) each controller
    # (a) the controller's DPO and representative: the parts given, then the missing one named once. This golden
    # read "Mag. Max Beispiel; Requires human completion; dpo@holding.example" before: one marker per missing
    # part, repeated in one cell for a contact with only a name, and not saying what was missing.
    assert cells["controller_dpo"] == "Mag. Max Beispiel; dpo@holding.example; Requires human completion: address"
    assert cells["controller_representative"] == (
        "Holding Representative Ltd; rep@holding.example; Requires human completion: address"
    )
    assert cells["processing"].startswith("Directory provisioning")  # (b)
    # (c) the processor's own recipients, not the controller's (India and HR Cloud are the controller's).
    assert cells["third_countries"] == "US (Backup Hosting LLC)"
    assert "IN" not in cells["third_countries"] and "HR Cloud" not in cells["transfer_safeguards"]
    assert "Data Privacy Framework" in cells["transfer_safeguards"] and "check needed" in cells["transfer_safeguards"]
    assert "Encryption at rest" in cells["security"]  # (d)
    with exported["processor.csv"].open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[2][:2] == ["Processor", "Beispiel GmbH (as processor)"]
