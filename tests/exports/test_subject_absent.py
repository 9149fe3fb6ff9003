"""The subject export tells "not recorded" (the policy holds the attribute, no value was received: unknown) from
"not needed" (the policy holds no such data); an empty cell said neither."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
from pypdf import PdfReader

from app.directory.schema import USER_SCHEMA
from app.exports.subject import NOT_NEEDED, export_subject
from app.policy.versions import in_force
from app.store.vault import Vault
from tests.erasure.support import service_for

SCHEMA = Path(__file__).resolve().parents[2] / "resources" / "schemas" / "subject-export-v1.schema.json"


def test_absent_data_is_said_to_be_not_recorded_or_not_needed(vault: Vault, tmp_path: Path) -> None:
    service = service_for(vault)
    body = {"schemas": [USER_SCHEMA], "userName": "sparse@example.test", "title": None}
    subject_id = str(service.create("User", body).body["id"])  # type: ignore[index]
    service.close()
    with vault.read_connection() as conn:
        record = in_force(conn)
    assert record is not None
    json_path, pdf_path = export_subject(vault, record, subject_id, tmp_path, datetime(2030, 1, 9, tzinfo=UTC))
    document = json.loads(json_path.read_text())
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))
    absent = document["absent_data"]
    not_recorded = {entry["attribute"] for entry in absent["not_recorded"]}
    assert {"title", "displayName"} <= not_recorded and "userName" not in not_recorded
    assert absent["not_needed"] == NOT_NEEDED
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(pdf_path).pages).split())
    assert "Not recorded: the policy holds these for a purpose, but no value was received for you:" in text
    assert "Not needed: Custos keeps no other attribute about you" in text
