"""An erasure's change events name the groups that held the subject: they got a new version (decision 0047), and
the desktop app's table re-reads only the ids an event names."""

from __future__ import annotations

from app.core.events import EventBus, ResourcesChanged
from app.erasure.requests import request_erasure
from app.store.vault import Vault
from tests.conftest import GROUP_SCHEMA
from tests.erasure.support import person, service_for
from tests.policy_support import hold_everything


def test_an_erasure_publishes_the_groups_that_held_the_subject(vault: Vault) -> None:
    hold_everything(vault)
    service = service_for(vault)
    try:
        subject = str(service.create("User", person("erased@example.test")).body["id"])
        kept = str(service.create("User", person("kept@example.test")).body["id"])
        members = [{"value": subject}, {"value": kept}]
        held = str(
            service.create("Group", {"schemas": [GROUP_SCHEMA], "displayName": "Held", "members": members}).body["id"]
        )
        service.create("Group", {"schemas": [GROUP_SCHEMA], "displayName": "Other", "members": [{"value": kept}]})
    finally:
        service.close()
    bus, seen = EventBus(), list[ResourcesChanged]()
    bus.subscribe(lambda event: seen.append(event) if isinstance(event, ResourcesChanged) else None)
    request_erasure(vault, [subject], "art17-1b", "dpo", bus=bus)
    assert [(e.resource_type, e.modified, e.deleted) for e in seen] == [
        ("Group", (held,), ()),
        ("User", (), (subject,)),
    ]
