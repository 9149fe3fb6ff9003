"""A vault with a policy naming three recipients, their targets, and a running service + dispatcher."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.events import EventBus
from app.directory.schema import ENTERPRISE_SCHEMA
from app.dsr.restriction import is_restricted
from app.policy.edit import add_recipient
from app.policy.in_force import PolicyInForce
from app.policy.versions import default_policy_text
from app.scim.service import ScimService
from app.store.vault import Vault
from app.targets.config import TargetConfig, add_target
from app.targets.dispatcher import Dispatcher
from app.targets.policy_change import apply_policy
from tests.targets.conftest import ScimTarget

RECEIVES = {
    "app1": ["userName", "displayName", "emails.value"],
    "app2": ["userName", "name.givenName", "name.familyName", "title", f"{ENTERPRISE_SCHEMA}:department"],
    "app3": ["userName", "displayName"],
}
GROUP_RECEIVES = {"app3": ["displayName", "members"]}


def policy_with_recipients(only: set[str] | None = None, receives: dict[str, list[str]] | None = None) -> str:
    """The default policy with recipients app1..app3 (``only``: just those; a recipient with no target gets a
    manual erasure step, Art. 19). ``receives``: other attributes for some of them (a narrowed mapping)."""
    text = default_policy_text()
    for name, attributes in {**RECEIVES, **(receives or {})}.items():
        if only is not None and name not in only:
            continue
        text = add_recipient(
            text,
            {
                "id": name,
                "name": f"Application {name}",
                "kind": "processor",
                "country": "IE",
                "contract_link": f"https://contracts.example.test/{name}",
                # app2 receives the directory's title and department: it serves that purpose too (issue 12 §3)
                "purposes": ["access-management", "internal-directory"] if name == "app2" else ["access-management"],
                "attributes": attributes,
                **({"group_attributes": GROUP_RECEIVES[name]} if name in GROUP_RECEIVES else {}),
            },
        )
    return text


@dataclass
class Provisioning:
    vault: Vault
    service: ScimService
    dispatcher: Dispatcher
    policy: PolicyInForce

    def close(self) -> None:
        self.dispatcher.stop()
        self.service.close()


def provisioning(vault: Vault, targets: list[ScimTarget], **target_options: object) -> Provisioning:
    apply_policy(vault, policy_with_recipients({target.name for target in targets}), "dpo")
    with vault.write_transaction() as conn:
        for target in targets:
            add_target(
                conn,
                TargetConfig(
                    id=0,
                    name=target.name,
                    base_url=target.base_url,
                    recipient_id=target.name,
                    auth_kind="bearer",
                    secret=target.token,
                    **target_options,  # type: ignore[arg-type]
                ),
            )
    policy = PolicyInForce(vault)
    bus = EventBus()
    service = ScimService(vault, "https://custos.test/scim/v2", bus, policy)
    dispatcher = Dispatcher(vault, policy, restricted=is_restricted, poll_seconds=0.05)
    bus.subscribe(lambda _event: dispatcher.wake())
    dispatcher.start()
    return Provisioning(vault, service, dispatcher, policy)
