"""``custos policy apply`` shows its impact before the operator confirms; it spoke of the mirror only. A version
that stops sending `title` to a target said "The catalogue is unchanged; no stored data is affected." while every
account there was about to be pushed again without it, and a version dropping a target's recipient said only
"Recipient no longer listed" while the target kept every account it had been sent. Against real scim2-servers."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from app.audit.vault_lifecycle import unlock_vault
from app.dsr.restriction import is_restricted
from app.policy.in_force import PolicyInForce
from app.scim.service import ScimService
from app.targets.dispatcher import Dispatcher
from tests.cli.inprocess import run
from tests.conftest import PASSPHRASE
from tests.erasure.support import person
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.support import RECEIVES, policy_with_recipients


def _pushing(data_dir: Path, until: Callable[[], bool], create: str | None = None) -> None:
    """Open the vault as `serve` would, push (creating a user first, if asked) until ``until``, and close it."""
    vault = unlock_vault(data_dir, PASSPHRASE)
    policy = PolicyInForce(vault)
    service = ScimService(vault, "https://custos.test/scim/v2", vault.events, policy)
    dispatcher = Dispatcher(vault, policy, restricted=is_restricted, poll_seconds=0.05)
    dispatcher.start()
    try:
        if create:
            service.create("User", person(create))
        wait_until(until, timeout=20)
    finally:
        dispatcher.stop()
        service.close()
        vault.close()


@pytest.mark.usefixtures("vault_file")
def test_the_impact_says_what_the_targets_will_lose(
    tmp_path: Path, data_dir: Path, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    app1, app2 = scim_targets(2)
    policy = tmp_path / "policy.toml"
    policy.write_text(policy_with_recipients({"app1", "app2"}))
    assert run(data_dir, "policy", "apply", str(policy), "--yes").returncode == 0
    for target in (app1, app2):
        os.environ["TARGET_TOKEN"] = target.token
        try:
            added = run(data_dir, "target", "add", target.name, "--url", target.base_url, "--recipient", target.name,
                        "--token-env", "TARGET_TOKEN")  # fmt: skip
        finally:
            del os.environ["TARGET_TOKEN"]
        assert added.returncode == 0, added.stderr
    _pushing(data_dir, lambda: [u.get("title") for u in app2.users()] == ["Engineer"], create="impact@example.test")

    narrowed = [name for name in RECEIVES["app2"] if name != "title"]
    policy.write_text(policy_with_recipients({"app1", "app2"}, receives={"app2": narrowed}))
    applied = run(data_dir, "policy", "apply", str(policy), "--yes")
    assert applied.returncode == 0, applied.stderr
    assert "no stored data is affected" not in applied.stdout
    assert ("Target app2 receives other attributes or other people: everyone in its scope is pushed to it again, "
            "and what it no longer receives is removed there.") in applied.stdout  # fmt: skip
    assert "Target app1" not in applied.stdout  # its recipient receives the same
    _pushing(data_dir, lambda: [u.get("title") for u in app2.users()] == [None])  # said, and true

    policy.write_text(policy_with_recipients({"app1"}))
    dropped = run(data_dir, "policy", "apply", str(policy), "--yes")
    assert dropped.returncode == 0, dropped.stderr
    assert ("Target app2: its recipient is no longer listed, so nothing more is sent to it; the 1 account(s) it holds "
            "stay there (nothing is deleted at the target).") in dropped.stdout  # fmt: skip
    assert len(app2.users()) == 1
    assert "impact@example.test" not in applied.stdout + dropped.stdout
