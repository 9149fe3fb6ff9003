"""Art. 17(2)/19 after a target is removed: removing a target deletes its links, which were the only record of
whom it held, and an erasure afterwards created no step for it — the receipt listed the other recipients and the
request closed while the application still held the person's account. Now whom it held goes on the trail at the
removal, and a later erasure gives that recipient a manual step (tell them, attest). Against real scim2-servers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from app.audit.tables import AuditEvent
from app.erasure.receipt import build
from app.erasure.requests import request_erasure
from app.erasure.worker import drive
from app.store.vault import Vault
from app.targets.config import TargetConfig, add_target
from app.targets.policy_change import apply_policy
from app.targets.service import remove
from tests.erasure.support import dispatcher_for, person, service_for
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.support import policy_with_recipients


def _names(target: ScimTarget) -> set[str]:
    return {str(user["userName"]) for user in target.users()}


def _steps(vault: Vault, request_id: str) -> dict[str, dict[str, object]]:
    with vault.read_connection() as conn:
        receipt = build(conn, request_id, datetime.now(UTC))
    return {str(step["target"]): step for step in receipt["subjects"][0]["targets"]}


def _two_targets(vault: Vault, apps: list[ScimTarget]) -> tuple[ScimTarget, ScimTarget]:
    """Two targets, each the target of its own recipient in the policy in force."""
    app1, app2 = apps[0], apps[1]
    apply_policy(vault, policy_with_recipients({"app1", "app2"}), "dpo")
    with vault.write_transaction() as conn:
        add_target(conn, TargetConfig(0, "app1", app1.base_url, "app1", "bearer", app1.token))
        add_target(conn, TargetConfig(0, "app2", app2.base_url, "app2", "bearer", app2.token))
    return app1, app2


def test_an_erasure_after_its_target_was_removed_still_tells_that_recipient(
    vault: Vault, apps: list[ScimTarget]
) -> None:
    app1, app2 = _two_targets(vault, apps)
    service = service_for(vault)
    dispatcher = dispatcher_for(vault)
    try:
        held = str(service.create("User", person("removed-held@example.test")).body["id"])  # type: ignore[index]
        wait_until(lambda: "removed-held@example.test" in _names(app2) and "removed-held@example.test" in _names(app1))
        # The recipient leaves the policy and its target is removed: the application keeps what it was sent.
        apply_policy(vault, policy_with_recipients({"app1"}), "dpo")
        remove(vault, "app2")
        later = str(service.create("User", person("removed-later@example.test")).body["id"])  # type: ignore[index]
        wait_until(lambda: "removed-later@example.test" in _names(app1))
    finally:
        dispatcher.stop()
        service.close()
    request_id = request_erasure(vault, [held], "art17-1a", "dpo", reason="left the company")
    assert not drive(vault, [request_id], timeout=20)  # open: the removed target's recipient is not told yet
    steps = _steps(vault, request_id)
    assert steps["app1"]["state"] == "succeeded"
    told = steps["recipient:app2"]
    assert told["state"] == "waiting_manual" and told["recipient"] == "app2"
    assert "target app2 was removed while it held this person's account" in str(told["reason"])
    assert "removed-held@example.test" in _names(app2)  # indeed still there: the step is not a formality

    # Someone the removed target never held gets no step for it.
    other = request_erasure(vault, [later], "art17-1a", "dpo", reason="left the company")
    assert drive(vault, [other], timeout=20)
    assert set(_steps(vault, other)) == {"app1"}

    with vault.read_connection() as conn:
        (details,) = conn.execute(select(AuditEvent.details).where(AuditEvent.kind == "target.removed")).scalars()
    assert json.loads(details) == {"target": "app2", "recipient": "app2", "users_held": 1}  # never whom


def test_a_target_whose_recipient_left_the_policy_is_still_erased_at(vault: Vault, apps: list[ScimTarget]) -> None:
    """Its recipient gone from the policy, the target is "not provisioned" but kept: an erasure still deletes the
    account there (its links stand), and the receipt says so only once the target confirms it."""
    _app1, app2 = _two_targets(vault, apps)
    service = service_for(vault)
    dispatcher = dispatcher_for(vault)
    try:
        held = str(service.create("User", person("left-policy@example.test")).body["id"])  # type: ignore[index]
        wait_until(lambda: "left-policy@example.test" in _names(app2))
        apply_policy(vault, policy_with_recipients({"app1"}), "dpo")
    finally:
        dispatcher.stop()
        service.close()
    request_id = request_erasure(vault, [held], "art17-1a", "dpo", reason="left the company")
    assert drive(vault, [request_id], timeout=20)
    assert _steps(vault, request_id)["app2"]["state"] == "succeeded"
    assert "left-policy@example.test" not in _names(app2)
