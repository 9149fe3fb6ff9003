"""A target is "in sync" only when a check of the target itself, run after the last push there, found no difference
(decision 0036): users deleted or changed directly at a real scim2-server are drift, not "in sync"."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from app.audit.trail import of_kind
from app.cli import main
from app.feed.tables import TargetCheck
from app.store.vault import Vault
from app.targets.reconcile import reconcile
from app.targets.status import TargetHealth, health, holdings
from tests.conftest import PASSPHRASE
from tests.erasure.support import person
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.support import Provisioning, provisioning

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _health(p: Provisioning) -> TargetHealth:
    with p.vault.read_connection() as conn:
        (target,) = health(conn, p.policy.get().policy)
    return target


def _holding(p: Provisioning, user_id: str) -> str:
    with p.vault.read_connection() as conn:
        (held,) = holdings(conn, "User", user_id)
    return held.state


def _provisioned(vault: Vault, app1: ScimTarget, users: int) -> tuple[Provisioning, list[str]]:
    p = provisioning(vault, [app1])
    ids = [str((p.service.create("User", person(f"verify-{n}@example.test")).body or {})["id"]) for n in range(users)]
    wait_until(lambda: len(app1.users()) == users)
    wait_until(lambda: _health(p).pending == 0 and _health(p).sync.missing == 0)  # type: ignore[union-attr]
    return p, ids


def _listed(capsys: pytest.CaptureFixture[str], data_dir: Path) -> list[str]:
    assert main(["target", "list", "--data-dir", str(data_dir)]) == 0
    *row, timeout = capsys.readouterr().out.splitlines()[1].split()
    assert timeout == "15s"  # the TIMEOUT column, added last (decision 0039)
    return row


def test_drift_at_the_target_is_never_in_sync(vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]) -> None:
    (app1,) = scim_targets(1)
    p, ids = _provisioned(vault, app1, 3)
    try:
        # Everything pushed, nothing queued: but nobody has looked at the target yet.
        assert _health(p).state == "not verified" and _holding(p, ids[0]) == "not verified"
        assert _health(p).verification.verified() == "never"

        assert reconcile(vault, p.policy, "app1").clean
        assert _health(p).state == "in sync" and _holding(p, ids[0]) == "in sync"

        remote = app1.users()
        with app1.client() as http:  # someone deletes one account and edits another at the target itself
            assert http.delete(f"/Users/{remote[0]['id']}").status_code == 204
            assert http.put(f"/Users/{remote[1]['id']}", json={**remote[1], "displayName": "Edited"}).is_success
        drift = reconcile(vault, p.policy, "app1")
        target = _health(p)
        assert (target.state, target.verification.drift) == ("drift", 2)
        assert target.verification.sentence().endswith(": 2 difference(s).")
        assert _holding(p, ids[2]) == "not verified"  # the target drifted: no copy there is vouched for

        with vault.read_connection() as conn:
            entry = of_kind(conn, "target.reconciled")[0]  # the newest
            checks = conn.execute(select(TargetCheck.__table__)).all()
        assert entry.details == {"target": "app1", "checked": 2, "unknown": 0, "missing": 1, "differing": 1,
                                 "beyond": 0, "repairable": 2, "repaired": False}  # fmt: skip
        assert len(checks) == 2 and checks[-1].missing == 1 and checks[-1].differing == 1
        assert "verify-" not in json.dumps(entry.details) and "Edited" not in json.dumps(entry.details)
        assert drift.missing_at_target and drift.differing

        reconcile(vault, p.policy, "app1", repair=True)  # pushed again: repaired, but not yet checked
        wait_until(lambda: _health(p).state == "not verified")
        assert reconcile(vault, p.policy, "app1").clean
        assert _health(p).state == "in sync"
    finally:
        p.close()


def test_a_push_after_the_check_is_not_verified(vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]) -> None:
    (app1,) = scim_targets(1)
    p, ids = _provisioned(vault, app1, 2)
    try:
        assert reconcile(vault, p.policy, "app1").clean
        assert _health(p).state == "in sync"
        edit = {"op": "replace", "path": "displayName", "value": "New"}
        p.service.patch("User", ids[0], {"schemas": [PATCH_OP], "Operations": [edit]})
        wait_until(lambda: _health(p).state == "not verified")
        assert _holding(p, ids[0]) == "not verified"
    finally:
        p.close()


def test_target_list_says_when_it_was_verified(
    vault: Vault,
    data_dir: Path,
    scim_targets: Callable[[int], list[ScimTarget]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (app1,) = scim_targets(1)
    p, _ids = _provisioned(vault, app1, 2)
    p.close()
    with app1.client() as http:
        http.delete(f"/Users/{app1.users()[0]['id']}")
    vault.close()
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)

    assert _listed(capsys, data_dir)[-3:] == ["2", "not-verified", "never"]
    assert main(["target", "reconcile", "app1", "--data-dir", str(data_dir)]) == 1
    capsys.readouterr()
    row = _listed(capsys, data_dir)
    assert row[-3:-1] == ["2", "drift:1"] and row[-1].endswith("Z") and "T" in row[-1]
