"""A target added after users exist receives every in-scope user (queued with the add, through the outbox), its
progress shows in ``target list`` and on the Targets page, and "in sync" is only said when it is true."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import delete

from app.audit.trail import of_kind
from app.audit.vault_lifecycle import unlock_vault
from app.cli import main
from app.dsr.restriction import is_restricted
from app.feed.tables import OutboxItem
from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from app.targets.dispatcher import Dispatcher
from app.targets.policy_change import apply_policy
from app.targets.status import TargetHealth, health
from tests.conftest import PASSPHRASE
from tests.erasure.support import person, service_for
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.support import policy_with_recipients

USERS = 39


def _cli(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, list[str]]:
    code = main([*args, "--data-dir", str(data_dir)])
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).splitlines()


def _listed(capsys: pytest.CaptureFixture[str], data_dir: Path) -> list[str]:
    code, lines = _cli(capsys, data_dir, "target", "list")
    assert code == 0
    *row, timeout = lines[1].split()
    assert timeout == "15s"  # the TIMEOUT column, added last (decision 0039)
    return row


def test_a_target_added_after_users_gets_all_of_them(
    vault: Vault,
    data_dir: Path,
    scim_targets: Callable[[int], list[ScimTarget]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (app1,) = scim_targets(1)
    apply_policy(vault, policy_with_recipients({"app1"}), "dpo")
    service = service_for(vault)
    for number in range(USERS):
        service.create("User", person(f"sync-{number}@example.test"))
    service.close()
    vault.close()

    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("APP1_TOKEN", app1.token)
    code, _ = _cli(capsys, data_dir, "target", "add", "app1", "--url", app1.base_url, "--recipient", "app1",
                   "--token-env", "APP1_TOKEN")  # fmt: skip
    assert code == 0
    # Queued with the add, before anything was pushed: not "in sync".
    assert _listed(capsys, data_dir)[-3:] == [str(USERS), f"syncing:0/{USERS}", "never"]

    reopened = unlock_vault(data_dir, PASSPHRASE)
    dispatcher = Dispatcher(reopened, PolicyInForce(reopened), restricted=is_restricted, poll_seconds=0.05)
    dispatcher.start()
    try:
        wait_until(lambda: len(app1.users()) == USERS, timeout=30)
        wait_until(lambda: _health(reopened).state == "not verified", timeout=10)  # pushed, not yet checked
    finally:
        dispatcher.stop()
    target = _health(reopened)
    assert target.sync is not None and (target.sync.held, target.sync.in_scope) == (USERS, USERS)
    with reopened.read_connection() as conn:
        (queued,) = of_kind(conn, "target.sync.queued")
    assert queued.details == {"target": "app1", "reason": "target added", "users": USERS, "groups": 0}
    reopened.close()

    assert _listed(capsys, data_dir)[-3:] == [str(USERS), "not-verified", "never"]
    code, lines = _cli(capsys, data_dir, "target", "reconcile", "app1")
    assert code == 0 and lines[-1].strip() == "no drift"
    listed = _listed(capsys, data_dir)
    assert listed[-3:-1] == [str(USERS), "in-sync"] and listed[-1] != "never"  # checked after the last push


def test_in_sync_is_only_said_when_true(vault: Vault) -> None:
    """Users in scope that the target does not hold, with nothing queued: "incomplete", never "in sync"."""
    from app.targets.config import TargetConfig, add_target

    apply_policy(vault, policy_with_recipients({"app1"}), "dpo")
    service = service_for(vault)
    for number in range(3):
        service.create("User", person(f"gap-{number}@example.test"))
    service.close()
    with vault.write_transaction() as conn:
        add_target(conn, TargetConfig(0, "app1", "https://app1.example.test/scim/v2", "app1", "bearer", "s"))
        conn.execute(delete(OutboxItem.__table__))  # as on the old code: nothing queued for the new target
    target = _health(vault)
    assert target.state == "incomplete" and target.progress == "0 of 3 in-scope users held"


def _health(vault: Vault) -> TargetHealth:
    with vault.read_connection() as conn:
        (target,) = health(conn, PolicyInForce(vault).get().policy)
    return target


def test_a_target_s_state_and_its_sync_sentence_come_from_one_read_of_the_outbox(
    vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table's state ("catching up") and the sentence ("nothing queued") must never disagree: a dispatcher
    committing between two reads of the outbox made them differ (seen in the full suite)."""
    from app.feed import outbox
    from app.targets import status
    from app.targets.config import TargetConfig, add_target

    apply_policy(vault, policy_with_recipients({"app1"}), "dpo")
    with vault.write_transaction() as conn:
        add_target(conn, TargetConfig(0, "app1", "https://app1.invalid/scim/v2", "app1", secret="t"))
    reads = iter([outbox.QueueStats(1, 0, None), outbox.QueueStats(0, 0, None)])  # a push lands between reads
    monkeypatch.setattr(status.outbox, "stats", lambda _conn, _target: next(reads))
    with vault.read_connection() as conn:
        (health,) = status.health(conn, PolicyInForce(vault).get().policy)
    assert health.sync is not None and health.state == "catching up" and health.sync.pending == health.pending == 1
