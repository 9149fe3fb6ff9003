"""``custos erase …`` and ``custos vault …`` as an operator runs them; nothing printed names a subject."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from tests.conftest import PASSPHRASE
from tests.erasure.stub import StubTarget
from tests.erasure.support import TargetSpec, add_targets, held_without_push, person, service_for
from tests.policy_support import work_contacts_text


def _cli(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str]:
    code = main([*args, "--data-dir", str(data_dir)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_erase_commands(
    vault: Vault,
    data_dir: Path,
    tmp_path: Path,
    stub: StubTarget,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("CUSTOS_OPERATOR", "dpo-jane")
    manual = TargetSpec("hr-paper", stub.base_url, stub.token, erase_mode="manual")
    ids = add_targets(vault, [TargetSpec("crm", stub.base_url, stub.token), manual])
    service = service_for(vault)
    names = ["cli-a@example.test", "cli-b@example.test", "cli-c@example.test"]
    rids = [str(service.create("User", person(name)).body["id"]) for name in names]  # type: ignore[index]
    service.close()
    for rid, name in zip(rids, names, strict=True):
        held_without_push(vault, rid, {ids["crm"]: stub.add_user(name)})
    vault.close()
    printed: list[str] = []

    code, out = _cli(capsys, data_dir, "erase", "--user-id", rids[0], "--yes", "--wait", "10", "--reason", "left")
    printed.append(out)
    assert code == 0, out
    request_id = out.split("Erasure request ", 1)[1].split(":", 1)[0]
    assert "1 subject(s) erased locally" in out
    lines = {line.split()[0]: line.split()[1] for line in out.splitlines()[2:] if line and not line.startswith("Req")}
    assert lines["crm"] == "succeeded" and lines["hr-paper"] == "skipped" and lines["local"] == "erased"

    code, out = _cli(capsys, data_dir, "erase", "--filter", 'userName sw "cli-"', "--yes", "--wait", "0")
    printed.append(out)
    assert code == 3 and "2 subject(s) erased locally" in out  # open: the worker has not run yet
    second = out.split("Erasure request ", 1)[1].split(":", 1)[0]
    code, out = _cli(capsys, data_dir, "erase", "resume", "--wait", "10")
    printed.append(out)
    assert code == 0 and "crm" in out and "2 subjects, erased (verified)" in out

    code, out = _cli(capsys, data_dir, "erase", "status")
    printed.append(out)
    assert request_id in out and second in out
    # The creation times are UTC and the table says so (a bare time reads as the reader's local one).
    assert out.splitlines()[0].split() == ["REQUEST", "CREATED", "(UTC)", "STATE", "GROUND", "STEPS"]
    _, detail = _cli(capsys, data_dir, "erase", "status", request_id)
    created = detail.split(" created ", 1)[1][:16]  # "created 2026-12-02 03:00:36 UTC by …"
    (row,) = [line for line in out.splitlines() if line.startswith(request_id)]
    assert row.split()[1:3] == created.split() and "UTC by" in detail

    code, out = _cli(capsys, data_dir, "erase", "receipt", request_id, "--out", str(tmp_path / "receipts"))
    printed.append(out)
    json_file, pdf_file, key_file = (line.split()[1] for line in out.splitlines())
    assert json_file.endswith(".json") and Path(pdf_file).exists()
    code, out = _cli(capsys, data_dir, "erase", "verify-receipt", json_file, "--public-key", key_file)
    assert code == 0 and out.startswith("valid:")
    tampered = json.loads(Path(json_file).read_text())
    tampered["request"]["ground"] = "art17-1e"
    Path(json_file).write_text(json.dumps(tampered))
    code, out = _cli(capsys, data_dir, "erase", "verify-receipt", json_file, "--public-key", key_file)
    assert code == 1 and out.startswith("INVALID:")

    code, out = _cli(capsys, data_dir, "vault", "backup", "--out", str(tmp_path / "nightly.vault"))
    printed.append(out)
    assert code == 0 and out.startswith("Backup written:")
    code, out = _cli(capsys, data_dir, "vault", "restore", str(tmp_path / "nightly.vault"), "--yes", "--wait", "0")
    printed.append(out)
    assert code == 0 and "0 erasure(s) replayed" in out

    for output in printed:  # no subject named anywhere: not its userName, not its SCIM id
        assert not [needle for needle in [*names, *rids] if needle in output]


def test_manual_attestation_from_the_command_line(
    vault: Vault, data_dir: Path, stub: StubTarget, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    ids = add_targets(vault, [TargetSpec("hr-paper", stub.base_url, stub.token, erase_mode="manual")])
    service = service_for(vault)
    rid = str(service.create("User", person("cli-m@example.test")).body["id"])  # type: ignore[index]
    service.close()
    held_without_push(vault, rid, {ids["hr-paper"]: "paper-file-9"})
    vault.close()
    code, out = _cli(capsys, data_dir, "erase", "--user-id", rid, "--yes", "--wait", "0.5")
    assert code == 3 and "waiting_manual" in out
    request_id = out.split("Erasure request ", 1)[1].split(":", 1)[0]
    code, out = _cli(capsys, data_dir, "erase", "attest", request_id, "--target", "hr-paper", "--note", "x@y.example")
    assert code == 2 and "must not contain an e-mail address" in out
    note = "Paper file shredded, certificate 2030-17"
    attest = ["erase", "attest", request_id, "--target", "hr-paper", "--note", note, "--operator", "bob"]
    code, out = _cli(capsys, data_dir, *attest)
    assert code == 0 and "erased (attested) by bob" in out and f"Request {request_id}  closed" in out


@pytest.mark.parametrize(
    ("scim_filter", "said"),
    [
        ('nickName eq "ada"', "'nickName' is not held under the agreed schema and cannot be filtered on."),
        ("userName eq", "The filter is not valid SCIM filter syntax: invalid syntax at column 10"),
        (
            'emails[type eq "home"].value eq "ada@home.example.test"',
            "'emails[type eq \"home\"]' is not held under the agreed schema (only emails of type work are held) "
            "and cannot be filtered on.",
        ),
    ],
)
def test_erase_by_filter_reads_through_the_agreed_schema(
    vault: Vault,
    data_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    scim_filter: str,
    said: str,
) -> None:
    """The filter is read as the endpoint reads it (app.services.erasure.select_users): one on an attribute the
    policy does not hold is refused, not answered "No User matches" (it could never match: the attribute is never
    stored), and a malformed one is a readable error, not a traceback. Nothing is erased either way."""
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    apply_policy(vault, work_contacts_text(), "dpo")  # e-mails of type work only: a home address is never stored
    service = service_for(vault)
    service.create("User", person("filter-a@example.test"))
    service.close()
    vault.close()
    code, out = _cli(capsys, data_dir, "erase", "--filter", scim_filter, "--yes", "--wait", "0")
    assert code == 2, out
    assert f"custos: The filter cannot select users: {said}" in out
    assert "No User matches" not in out and "Erasure request" not in out and "Traceback" not in out


def test_erase_status_names_its_command_for_the_identity_provider_s_step(
    vault: Vault, data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A contract: the source line of ``erase status`` ends with the command that attests it. The app's views say
    the same step with their own button (the status no longer carries the command for them to rewrite)."""
    from app.erasure.worker import drive
    from app.services.erasure import request

    service = service_for(vault)
    subject_id = str(service.create("User", person("held.cli@example.test")).body["id"])  # type: ignore[index]
    service.close()
    request_id = request(vault, [subject_id], "art17-1a", "dpo", "ticket 12")
    assert drive(vault, [request_id], 30)
    vault.close()
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)

    _code, out = _cli(capsys, data_dir, "erase", "status", request_id)

    (source,) = [line for line in out.splitlines() if line.startswith("source ")]
    assert source.split(None, 2)[1:] == [
        "held",
        "still held at the identity provider (not seen removed or blocked, not attested): remove or block at the "
        "identity provider, then 'erase attest --source'",
    ]


def test_an_unwritable_ledger_is_said_and_nothing_is_erased(
    vault: Vault, data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: a PermissionError traceback (the data folder's files made read-only under a running serve). The
    transaction was already undone, rightly: an erasure missing from the ledger would come back with a restore."""
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    service = service_for(vault)
    rid = str(service.create("User", person("cli-ledger@example.test")).body["id"])  # type: ignore[index]
    service.close()
    vault.close()
    ledger = data_dir / "erasure-ledger.jsonl"
    ledger.symlink_to(data_dir / "unmounted" / "erasure-ledger.jsonl")  # kept on a disk that is gone; root or not

    code, out = _cli(capsys, data_dir, "erase", "--user-id", rid, "--yes", "--wait", "0")

    assert code == 2 and "Traceback" not in out
    assert f"custos: Cannot write the erasure ledger {ledger}" in out and "Nothing was erased" in out
    ledger.unlink()
    code, out = _cli(capsys, data_dir, "erase", "status")
    assert code == 0 and "er-" not in out  # no request was recorded
    opened = Vault.unlock(data_dir, PASSPHRASE)
    try:
        with opened.read_connection() as conn:
            held = conn.exec_driver_sql("SELECT count(*) FROM scim_resources WHERE id = ?", (rid,)).scalar()
    finally:
        opened.close()
    assert held == 1
