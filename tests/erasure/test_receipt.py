"""Signed receipts: they verify offline with the public key alone, fail when altered, carry the evidence per
target (statuses, body hashes, verification, attestation), and hold nothing that identifies the subject."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader

from app.audit.trail import canonical, of_kind
from app.erasure.receipt import export, load_public_key, verify_receipt
from app.erasure.requests import attest, request_erasure
from app.erasure.worker import ErasureWorker
from app.store.vault import Vault
from tests.erasure.stub import StubTarget
from tests.erasure.support import FakeClock, TargetSpec, add_targets, held_without_push, person, service_for
from tests.planted_links import plant, untouched

USER_NAME = "receipt-subject@example.test"


def _erased_with_receipt(vault: Vault, stub: StubTarget, out: Path) -> tuple[dict[str, object], list[str], Path]:
    manual = TargetSpec("ledger-app", stub.base_url, stub.token, erase_mode="manual")
    specs = [TargetSpec(stub.name, stub.base_url, stub.token), manual]
    ids = add_targets(vault, specs)
    service = service_for(vault)
    rid = str(service.create("User", person(USER_NAME, "Ottoline", "Vexbridge")).body["id"])  # type: ignore[index]
    service.close()
    remote = stub.add_user(USER_NAME)
    held_without_push(vault, rid, {ids[stub.name]: remote, ids["ledger-app"]: "manual-account-77"})
    clock = FakeClock()
    request_id = request_erasure(vault, [rid], "art17-1b", "dpo", reason="consent withdrawn by letter", now=clock())
    ErasureWorker(vault, clock=clock).tick()
    attest(vault, request_id, "ledger-app", "alice", "Removed in the admin console, search shows none", clock())
    files = export(vault, request_id, out)
    receipt = json.loads(files.json_path.read_text())
    return receipt, [USER_NAME, "Ottoline", "Vexbridge", rid, remote, "manual-account-77"], files.public_key_path


def test_receipt_contents_and_offline_verification(vault: Vault, stub: StubTarget, tmp_path: Path) -> None:
    receipt, needles, key_file = _erased_with_receipt(vault, stub, tmp_path / "out")
    json_path = next((tmp_path / "out").glob("*.json"))
    key = load_public_key(key_file.read_bytes())
    assert verify_receipt(json_path, key).valid

    request = receipt["request"]
    assert request["state"] == "closed" and request["ground"] == "art17-1b"  # type: ignore[index]
    assert str(receipt["policy_in_force"]).startswith("v")
    local = receipt["local_erasure"]
    assert local["storage"]["wal_truncated"] and local["storage"]["vacuumed"]  # type: ignore[index]
    (subject,) = receipt["subjects"]  # type: ignore[misc]
    assert len(subject["pseudonym"]) == 64
    by_target = {t["target"]: t for t in subject["targets"]}
    automatic = by_target["stub"]
    assert automatic["state"] == "succeeded" and automatic["outcome"] == "erased (verified)"
    assert automatic["http_statuses"] == [204, 404]
    assert all(len(x["sha256"]) == 64 for x in automatic["exchanges"])
    assert automatic["verification"] == {"read_back_status": 404, "result": "absent"}
    assert automatic["requested"] and automatic["first_attempt"] and automatic["confirmed"]
    manual = by_target["ledger-app"]
    assert manual["outcome"] == "erased (attested)" and manual["attestation"]["by"] == "alice"

    with vault.read_connection() as conn:
        issued = of_kind(conn, "erasure.receipt.issued")
    assert issued[0].details["key_id"] == receipt["signature"]["key_id"]  # type: ignore[index]

    # Nothing in any artefact identifies the subject: JSON, PDF (bytes and extracted text), key file.
    pdf_path = next((tmp_path / "out").glob("*.pdf"))
    pdf_text = "".join(page.extract_text() for page in PdfReader(pdf_path).pages)
    assert "Erasure receipt" in pdf_text and "erased (verified)" in pdf_text
    assert "Targets and recipients" not in pdf_text  # the 'none' line only where there is none
    for blob in (json_path.read_bytes(), pdf_path.read_bytes(), pdf_text.encode(), key_file.read_bytes()):
        assert [n for n in needles if n.encode() in blob] == []


def test_an_altered_receipt_fails(vault: Vault, stub: StubTarget, tmp_path: Path) -> None:
    receipt, _, key_file = _erased_with_receipt(vault, stub, tmp_path / "out")
    key = load_public_key(key_file.read_bytes())
    altered = json.loads(json.dumps(receipt))
    manual = next(t for t in altered["subjects"][0]["targets"] if t["target"] == "ledger-app")  # type: ignore[index]
    manual["outcome"] = "erased (verified)"
    manual["http_statuses"] = [204, 404]
    path = tmp_path / "altered.json"
    path.write_text(json.dumps(altered))
    result = verify_receipt(path, key)
    assert not result.valid and "altered" in result.message

    resigned = json.loads(json.dumps(receipt))
    resigned["issued"] = "2031-01-01T00:00:00.000000Z"
    path.write_text(json.dumps(resigned))
    assert not verify_receipt(path, key).valid
    path.write_text(json.dumps(receipt))
    assert verify_receipt(path, key).valid
    assert not verify_receipt(path, bytes(32)).valid  # another key


def test_a_receipt_resigned_with_another_key_does_not_name_the_genuine_key(
    vault: Vault, stub: StubTarget, tmp_path: Path
) -> None:
    """The signature block is outside the signed content: a forger re-signs the altered receipt with their own key,
    embeds that key and keeps the genuine key id. Checked without --public-key, the verdict must not name the
    genuine id (the auditor compares that id with its anchor and would accept the forgery)."""
    receipt, _, key_file = _erased_with_receipt(vault, stub, tmp_path / "out")
    genuine_id = str(receipt["signature"]["key_id"])  # type: ignore[index]
    forged = json.loads(json.dumps(receipt))
    forged["local_erasure"]["rows_deleted"] = 99
    forger = Ed25519PrivateKey.generate()
    public = forger.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    content = {name: value for name, value in forged.items() if name != "signature"}
    forged["signature"]["public_key"] = base64.b64encode(public).decode()
    forged["signature"]["value"] = base64.b64encode(forger.sign(canonical(content))).decode()
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged))

    result = verify_receipt(path)
    assert not result.valid and "re-signed" in result.message
    assert result.key_id != genuine_id and genuine_id in result.message
    assert not verify_receipt(path, load_public_key(key_file.read_bytes())).valid

    honest = tmp_path / "honest.json"
    honest.write_text(json.dumps(receipt))
    verdict = verify_receipt(honest)
    assert verdict.valid and verdict.key_id == genuine_id and genuine_id in verdict.message


def test_a_receipt_with_no_target_says_so(vault: Vault, tmp_path: Path) -> None:
    """With no target and no recipient the PDF said nothing at all about Art. 19: silence, not 'none'."""
    service = service_for(vault)
    rid = str(service.create("User", person("alone@example.test", "Una", "Alone")).body["id"])  # type: ignore[index]
    service.close()
    request_id = request_erasure(vault, [rid], "art17-1a", "dpo", now=FakeClock()())
    files = export(vault, request_id, tmp_path)
    assert json.loads(files.json_path.read_text())["subjects"][0]["targets"] == []
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(files.pdf_path).pages).split())
    assert "Targets and recipients none (Art. 19): no SCIM target was configured" in text


def test_a_receipt_never_writes_through_a_link_in_the_folder(vault: Vault, tmp_path: Path) -> None:
    """A link planted under a receipt's name had the file it named overwritten with the receipt."""
    service = service_for(vault)
    rid = str(service.create("User", person("linked@example.test", "Lin", "Ked")).body["id"])  # type: ignore[index]
    service.close()
    request_id = request_erasure(vault, [rid], "art17-1a", "dpo", now=FakeClock()())
    out, victim = plant(tmp_path, "receipts", [f"erasure-receipt-{request_id}.{suffix}" for suffix in ("json", "pdf")])
    files = export(vault, request_id, out)
    assert untouched(victim)
    assert not files.json_path.is_symlink() and json.loads(files.json_path.read_text())["request"]["id"] == request_id
    assert sorted(p.name for p in out.iterdir()) == sorted(
        p.name for p in (files.json_path, files.pdf_path, files.public_key_path)
    )
