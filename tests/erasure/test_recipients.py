"""Art. 19: every recipient that received the subject's data is told. A recipient with a SCIM target gets an
automated step at the real scim2-server; a recipient with none (a payroll bureau) a manual step, attested with
who, when and how; a recipient whose scope never covered the subject gets none. The receipt lists them all."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.audit.vault_lifecycle import unlock_vault
from app.cli import main
from app.erasure.receipt import build
from app.erasure.requests import request_erasure
from app.erasure.worker import drive
from app.policy.edit import add_recipient
from app.store.vault import Vault
from app.targets.config import TargetConfig, add_target
from app.targets.policy_change import apply_policy
from tests.conftest import GROUP_SCHEMA, PASSPHRASE
from tests.erasure.support import dispatcher_for, person, service_for
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.support import policy_with_recipients

PAYROLL = {
    "id": "payroll",
    "name": "Lohnbüro Schmidt GmbH",
    "kind": "external_controller",
    "country": "DE",
    "purposes": ["access-management"],
    "attributes": ["userName", "displayName"],
    "scope": {"groups": ["Payroll"]},
}


def test_every_recipient_is_told(
    vault: Vault,
    data_dir: Path,
    apps: list[ScimTarget],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app1 = apps[0]
    apply_policy(vault, add_recipient(policy_with_recipients({"app1"}), PAYROLL), "dpo")
    with vault.write_transaction() as conn:
        add_target(conn, TargetConfig(0, "app1", app1.base_url, "app1", "bearer", app1.token))
    service = service_for(vault)
    dispatcher = dispatcher_for(vault)
    try:
        paid = str(service.create("User", person("art19-paid@example.test")).body["id"])  # type: ignore[index]
        unpaid = str(service.create("User", person("art19-other@example.test")).body["id"])  # type: ignore[index]
        service.create("Group", {"schemas": [GROUP_SCHEMA], "displayName": "Payroll", "members": [{"value": paid}]})
        wait_until(lambda: {"art19-paid@example.test", "art19-other@example.test"} <= _names(app1))
    finally:
        dispatcher.stop()
        service.close()

    request_id = request_erasure(vault, [paid, unpaid], "art17-1a", "dpo", reason="left the company")
    assert not drive(vault, [request_id], timeout=20)  # open: the payroll bureau has not been told yet
    with vault.read_connection() as conn:
        receipt = build(conn, request_id, datetime.now(UTC))
    steps = {(n, step["target"]): step for n, s in enumerate(receipt["subjects"]) for step in s["targets"]}
    assert steps[(0, "app1")]["state"] == "succeeded" and steps[(0, "app1")]["recipient"] == "app1"
    assert steps[(1, "app1")]["state"] == "succeeded"
    manual = steps[(0, "recipient:payroll")]
    assert manual["state"] == "waiting_manual" and manual["erase_mode"] == "recipient"
    assert manual["recipient"] == "payroll" and "Lohnbüro Schmidt GmbH" in manual["reason"]
    assert (1, "recipient:payroll") not in steps  # outside the bureau's scope: it never received this one

    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("CUSTOS_OPERATOR", "dpo-jane")
    vault.close()
    note = "phoned K. Braun at the bureau on 2030-01-07, confirmed deletion in writing (ticket 4411)"
    code = main(["erase", "attest", request_id, "--target", "recipient:payroll", "--note", note,
                 "--data-dir", str(data_dir)])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0  # closed: every recipient told (the source line is reported apart, not a step)
    assert "recipient:payroll" in printed and "erased (attested) by dpo-jane" in printed
    assert "source" in printed and "still held at the identity provider" in printed

    reopened = unlock_vault(data_dir, PASSPHRASE)
    try:
        with reopened.read_connection() as conn:
            receipt = build(conn, request_id, datetime.now(UTC))
    finally:
        reopened.close()
    assert receipt["request"]["state"] == "closed"
    told = receipt["subjects"][0]["targets"]
    attested = next(step for step in told if step["target"] == "recipient:payroll")
    assert attested["state"] == "succeeded" and attested["outcome"] == "erased (attested)"
    assert attested["attestation"]["by"] == "dpo-jane" and attested["attestation"]["note"] == note
    assert attested["attestation"]["at"]


def _names(target: ScimTarget) -> set[str]:
    return {str(user["userName"]) for user in target.users()}
