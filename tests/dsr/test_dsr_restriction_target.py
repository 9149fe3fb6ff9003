"""Restriction (Art. 18) end to end against a real scim2-server: an application that receives `active` gets the
account as inactive while the restriction holds, and active again once it is lifted; an application that does
not receive `active` is not sent it (minimisation holds; decision 0017 says so)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from app.core.events import EventBus
from app.dsr.register import DsrRegister
from app.dsr.restriction import is_restricted
from app.policy.edit import add_recipient
from app.policy.in_force import PolicyInForce
from app.policy.versions import default_policy_text
from app.scim.service import ScimService
from app.store.vault import Vault
from app.targets.config import TargetConfig, add_target
from app.targets.dispatcher import Dispatcher
from app.targets.policy_change import apply_policy
from tests.dsr.dsr_support import in_england
from tests.targets.conftest import ScimTarget, scim_targets, wait_until  # noqa: F401 - the fixture
from tests.targets.test_provisioning import full_user

RECEIVES = {"app1": ["userName", "displayName", "active"], "app2": ["userName", "displayName"]}


def _policy() -> str:
    text = default_policy_text()
    for name, attributes in RECEIVES.items():
        text = add_recipient(text, {"id": name, "name": f"Application {name}", "kind": "processor", "country": "IE",
                                    "contract_link": f"https://contracts.example.test/{name}",
                                    "purposes": ["access-management"], "attributes": attributes})  # fmt: skip
    return text


def _active_at(target: ScimTarget, user_name: str) -> object:
    found = [u for u in target.users() if u.get("userName") == user_name]
    return found[0].get("active", "absent") if found else None


def test_a_restricted_subject_is_inactive_at_the_targets_that_receive_active(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]  # noqa: F811
) -> None:
    app1, app2 = scim_targets(2)
    apply_policy(vault, _policy(), "dpo")
    in_england(vault)
    with vault.write_transaction() as conn:
        for target in (app1, app2):
            add_target(conn, TargetConfig(0, target.name, target.base_url, target.name, "bearer", target.token))
    policy = PolicyInForce(vault)
    bus = EventBus()
    service = ScimService(vault, "https://custos.test/scim/v2", bus, policy)
    dispatcher = Dispatcher(vault, policy, restricted=is_restricted, poll_seconds=0.05)
    bus.subscribe(lambda _event: dispatcher.wake())
    dispatcher.start()
    try:
        subject = str(service.create("User", full_user("restrict-me@example.test")).body["id"])  # type: ignore[index]
        wait_until(lambda: _active_at(app1, "restrict-me@example.test") is True, timeout=30)
        wait_until(lambda: _active_at(app2, "restrict-me@example.test") == "absent", timeout=30)

        register = DsrRegister(vault, lambda: datetime(2026, 2, 10, 9, tzinfo=UTC))
        request_id = register.open(["restriction"], "email", "dpo", datetime(2026, 2, 2, tzinfo=UTC),
                                   subject_id=subject)  # fmt: skip
        register.record_task(request_id, "accuracy contested: restricted at the IdP by the service desk", "dpo")
        dispatcher.wake()
        wait_until(lambda: _active_at(app1, "restrict-me@example.test") is False, timeout=30)
        assert _active_at(app2, "restrict-me@example.test") == "absent"  # not in its mapping: never sent
        # An IdP update meanwhile does not undo the restriction.
        service.replace("User", subject, {**full_user("restrict-me@example.test"), "displayName": "Seven Renamed"})
        dispatcher.wake()
        wait_until(lambda: any(u.get("displayName") == "Seven Renamed" for u in app1.users()), timeout=30)
        assert _active_at(app1, "restrict-me@example.test") is False
        register.record_answer(request_id, "dpo", date(2026, 2, 10), [])

        register.lift_restriction(request_id, "dpo", datetime(2026, 2, 10, 8, tzinfo=UTC), "email")
        dispatcher.wake()
        wait_until(lambda: _active_at(app1, "restrict-me@example.test") is True, timeout=30)
    finally:
        dispatcher.stop()
        service.close()
