"""The subject export names the articles it answers as the person's rights are: Art. 15 always, Art. 20
(portability) only where a purpose of their data rests on consent or a contract (Art. 20(1)(a)). Before, a policy
resting on legitimate interests alone gave an export tagged "Art. 15 and 20" whose own list of rights left
portability out."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import tomlkit
from pypdf import PdfReader

from app.cli import main
from app.policy.versions import default_policy_text
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from tests.conftest import PASSPHRASE
from tests.erasure.support import person, service_for

SCHEMA = Path(__file__).resolve().parents[2] / "resources" / "schemas" / "subject-export-v1.schema.json"


def _policy_on(basis: str) -> str:
    """The default policy with every purpose on ``basis`` (the default rests on legitimate interests)."""
    document = tomlkit.parse(default_policy_text())
    for purpose in document["purposes"]:  # type: ignore[union-attr]
        purpose["lawful_basis"] = basis
    return tomlkit.dumps(document)


def _export(vault: Vault, data_dir: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, str]:  # type: ignore[type-arg]
    service = service_for(vault)
    subject_id = str(service.create("User", person("art.subject@example.test")).body["id"])  # type: ignore[index]
    service.close()
    vault.close()
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    argv = ["export", "subject", "--user-id", subject_id, "--out", str(out), "--data-dir", str(data_dir)]
    assert main(argv) == 0
    document = json.loads((out / f"subject-{subject_id}.json").read_text())
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(out / f"subject-{subject_id}.pdf").pages).split())
    return document, text


@pytest.mark.parametrize("basis", ["legitimate_interests", "legal_obligation", "public_task"])
def test_no_portability_tag_where_the_bases_give_no_portability(
    basis: str, vault: Vault, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_policy(vault, _policy_on(basis), "dpo")
    document, text = _export(vault, data_dir, tmp_path, monkeypatch)
    assert not any("Art. 20" in right for right in document["rights"])
    assert document["articles"] == ["15"]
    assert "Art. 20" not in text, text
    assert "Personal data held about you (Art. 15 GDPR)" in text


@pytest.mark.parametrize("basis", ["consent", "contract"])
def test_portability_tag_where_a_purpose_rests_on_consent_or_contract(
    basis: str, vault: Vault, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_policy(vault, _policy_on(basis), "dpo")
    document, text = _export(vault, data_dir, tmp_path, monkeypatch)
    assert "portability (Art. 20)" in document["rights"]
    assert document["articles"] == ["15", "20"]
    assert "Personal data held about you (Art. 15 and 20 GDPR)" in text
    assert ".json (Art. 20)" in text
