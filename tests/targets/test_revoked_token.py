"""A target whose token was revoked answers 401 to every push: the pushes fail at once (retrying cannot fix a
credential) and the target "needs attention". The operator does what the Targets page tells them — fix the cause
(a new token), then reconcile with repair — and the target must then say what is true of it: the failures are
behind it, and a check finds it clean. They used to stay "failed" for good, whatever was pushed since."""

from __future__ import annotations

from collections.abc import Callable

from app.services import health as health_check
from app.services import targets as target_service
from app.store.vault import Vault
from app.targets.reconcile import reconcile
from app.targets.status import TargetHealth, health
from tests.erasure.support import person
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.support import Provisioning, provisioning


def _health(p: Provisioning) -> TargetHealth:
    with p.vault.read_connection() as conn:
        (target,) = health(conn, p.policy.get().policy)
    return target


def test_a_new_token_and_a_repair_clear_the_failures(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    (app1,) = scim_targets(1)
    p = provisioning(vault, [app1])
    try:
        target_service.change(p.vault, "app1", secret="revoked-token")
        for n in range(2):
            p.service.create("User", person(f"revoked-{n}@example.test"))
        wait_until(lambda: _health(p).failed == 2)
        failing = _health(p)
        assert failing.state == "needs attention"
        assert failing.last_error == "POST answered 401 (the target refused the credential)"
        assert app1.users() == []
        said = health_check.targets(p.vault)  # `custos health` names the cause, not only "needs attention"
        assert said.level == health_check.WARN
        assert said.text == (
            "to look at: app1 (needs attention, last error: POST answered 401 (the target refused the credential))"
        )

        target_service.change(p.vault, "app1", secret=app1.token)  # the operator fixes the cause
        drift = reconcile(p.vault, p.policy, "app1", repair=True)
        assert len(drift.missing_at_target) == 2 and drift.repaired == 2
        wait_until(lambda: len(app1.users()) == 2 and _health(p).pending == 0)

        fixed = _health(p)
        assert (fixed.failed, fixed.last_error) == (0, None)  # what failed has been pushed since
        assert fixed.state == "not verified"
        assert reconcile(p.vault, p.policy, "app1").clean
        assert _health(p).state == "in sync"
        rows = target_service.listing(p.vault, p.policy)
        assert rows[0].sync_word() == "in-sync" and rows[0].queue.failed == 0
    finally:
        p.close()
