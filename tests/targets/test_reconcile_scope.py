"""Reconcile compares only the Users in the recipient's scope (commit eb19c0b): at a real scim2-server target, a
user outside a scoped recipient's scope, held nowhere, is no drift; one in scope and missing at the target is."""

from __future__ import annotations

from collections.abc import Callable

from app.core.events import EventBus
from app.dsr.restriction import is_restricted
from app.policy.edit import add_recipient
from app.policy.in_force import PolicyInForce
from app.policy.versions import default_policy_text
from app.scim.service import ScimService
from app.store.vault import Vault
from app.targets.config import TargetConfig, add_target
from app.targets.dispatcher import Dispatcher
from app.targets.policy_change import apply_policy
from app.targets.reconcile import reconcile
from tests.erasure.support import person
from tests.targets.conftest import ScimTarget, wait_until


def _engineers_only() -> str:
    return add_recipient(default_policy_text(), {
        "id": "app1", "name": "Build farm", "kind": "processor", "country": "IE", "contract_link": "https://c",
        "purposes": ["access-management", "internal-directory"], "attributes": ["userName", "title"],
        "scope": {"filter": 'title eq "Engineer"'},
    })  # fmt: skip


def test_reconcile_counts_only_the_recipients_scope(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    (app1,) = scim_targets(1)
    apply_policy(vault, _engineers_only(), "dpo")
    with vault.write_transaction() as conn:
        add_target(conn, TargetConfig(0, app1.name, app1.base_url, app1.name, "bearer", app1.token))
    policy = PolicyInForce(vault)
    bus = EventBus()
    service = ScimService(vault, "https://custos.test/scim/v2", bus, policy)
    dispatcher = Dispatcher(vault, policy, restricted=is_restricted, poll_seconds=0.05)
    bus.subscribe(lambda _event: dispatcher.wake())
    dispatcher.start()
    try:
        eng = str(service.create("User", {**person("eng@example.test"), "title": "Engineer"}).body["id"])  # type: ignore[index]
        sales = str(service.create("User", {**person("sales@example.test"), "title": "Sales"}).body["id"])  # type: ignore[index]
        wait_until(lambda: [u["userName"] for u in app1.users()] == ["eng@example.test"])
        dispatcher.stop()

        drift = reconcile(vault, policy, "app1")
        assert drift.clean, drift  # sales is held nowhere and should be held nowhere
        assert sales not in drift.missing_at_target

        (remote,) = app1.users()
        with app1.client() as http:
            assert http.delete(f"/Users/{remote['id']}").status_code == 204
        drift = reconcile(vault, policy, "app1")
        assert drift.missing_at_target == [eng]
        assert (drift.unknown_at_target, drift.differing, drift.repairable) == ([], {}, 1)
    finally:
        dispatcher.stop()
        service.close()
