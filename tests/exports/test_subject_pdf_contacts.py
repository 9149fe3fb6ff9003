"""The subject-access PDF gives the controller and the DPO one readable line each: "Requires human completion"
once per field, with the missing parts named when some are given. Before: the four JSON fields were joined, so an
empty contact read "Requires human completion; Requires human completion; …" four times on one line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.exports.subject import export_subject
from app.policy.model import NEEDS_HUMAN
from app.policy.versions import default_policy_text, in_force
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from tests.erasure.support import person, service_for

EMPTY_CONTROLLER = '[controller]\nname = ""\naddress = ""'
PARTIAL_CONTROLLER = '[controller]\nname = "Example GmbH"\naddress = "Hauptstr. 1, 10115 Berlin"'


def _first_page(vault: Vault, policy: str, out: Path) -> dict[str, str]:
    apply_policy(vault, policy, "dpo")
    service = service_for(vault)
    subject_id = str(service.create("User", person("sam.subject@example.test")).body["id"])  # type: ignore[index]
    service.close()
    with vault.read_connection() as conn:
        record = in_force(conn)
    assert record is not None
    _json, pdf = export_subject(vault, record, subject_id, out, datetime(2030, 1, 9, tzinfo=UTC))
    lines = PdfReader(pdf).pages[0].extract_text().splitlines()
    rows = ("Controller", "Data Protection Officer")
    return {row: line.removeprefix(row).strip() for line in lines for row in rows if line.startswith(f"{row} ")}


@pytest.mark.parametrize(
    ("policy", "controller"),
    [
        (default_policy_text(), NEEDS_HUMAN),
        (
            default_policy_text().replace(EMPTY_CONTROLLER, PARTIAL_CONTROLLER, 1),
            f"Example GmbH; Hauptstr. 1, 10115 Berlin; {NEEDS_HUMAN}: e-mail, telephone",
        ),
    ],
    ids=["empty", "partial"],
)
def test_each_contact_says_what_is_missing_once(vault: Vault, tmp_path: Path, policy: str, controller: str) -> None:
    assert EMPTY_CONTROLLER in default_policy_text()  # the shipped default leaves the contacts to the operator
    rows = _first_page(vault, policy, tmp_path)
    assert rows == {"Controller": controller, "Data Protection Officer": NEEDS_HUMAN}
