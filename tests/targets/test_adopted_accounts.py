"""An account Custos did not create, found at the target and linked (a 409 on create then a search, or a search
before creating), is on the trail as ``provision.adopted``, with how it was found and by which attribute (never its
value); ``provision.replaced`` is kept for an update of an account already linked. Both used to read "replaced".
Against a real scim2-server."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from app.audit.trail import StoredEvent, of_kind
from app.siem.mapping import describe, has_mapping
from app.store.vault import Vault
from app.targets.dispatcher import Dispatcher
from tests.erasure.support import person
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.faults import FaultProxy
from tests.targets.support import Provisioning, provisioning

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _events(vault: Vault, kind: str) -> list[StoredEvent]:
    with vault.read_connection() as conn:
        return of_kind(conn, kind)


def _pushes(p: Provisioning) -> list[str]:
    """The kinds of the pushes recorded so far, oldest first (failures aside)."""
    return [event.kind for event in reversed(_events(p.vault, "provision.")) if event.kind != "provision.failed"]


def test_a_user_found_after_a_409_is_adopted_and_a_later_change_replaces(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    (app1,) = scim_targets(1)
    with app1.client() as http:  # the application already holds the person, created there by someone else
        assert http.post("/Users", json={"userName": "adopt-1@example.test"}).status_code == 201
    p = provisioning(vault, [app1])
    try:
        rid = str(p.service.create("User", person("adopt-1@example.test")).body["id"])  # type: ignore[index]
        wait_until(lambda: len(_pushes(p)) == 1)
        assert _pushes(p) == ["provision.adopted"]
        (adopted,) = _events(vault, "provision.adopted")
        assert adopted.details["found"] == "after the create answered 409"
        assert (adopted.details["matched_by"], adopted.details["status"]) == ("userName", 200)
        assert "adopt-1@example.test" not in str(adopted.details)
        assert has_mapping("provision.adopted") and describe(adopted).action == "provision-adopted"

        p.service.patch("User", rid, {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName",
                                                                          "value": "Seven S."}]})  # fmt: skip
        wait_until(lambda: len(_pushes(p)) == 2)
        assert _pushes(p) == ["provision.adopted", "provision.replaced"]
        assert len(app1.users()) == 1  # the same account, updated: never a second one
    finally:
        p.close()


def test_a_group_found_by_search_is_adopted(vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]) -> None:
    (app3,) = scim_targets(1)
    app3.name = "app3"  # the recipient that receives groups: see tests/targets/support.py
    with app3.client() as http:
        assert http.post("/Groups", json={"schemas": [GROUP], "displayName": "Adopted Team"}).status_code == 201
    p = provisioning(vault, [app3])
    try:
        p.service.create("Group", {"schemas": [GROUP], "displayName": "Adopted Team"})
        wait_until(lambda: len(_pushes(p)) == 1)
        assert _pushes(p) == ["provision.adopted"] and len(app3.groups()) == 1
        (adopted,) = _events(vault, "provision.adopted")
        assert (adopted.details["found"], adopted.details["matched_by"]) == ("by a search before creating",
                                                                           "displayName")  # fmt: skip
    finally:
        p.close()


def test_groups_pushed_before_a_member_was_adopted_list_it_once_it_is(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    """As for a member created there: a group pushed while its member was not yet linked at the target is pushed
    again once the member is adopted, so the target's group does not stay without it."""
    (app3,) = scim_targets(1)
    app3.name = "app3"
    with app3.client() as http:
        assert http.post("/Users", json={"userName": "adopt-3@example.test"}).status_code == 201
    proxy = FaultProxy(app3.base_url.removesuffix("/v2")).start()
    app3.port = proxy.port  # the target is configured through the proxy
    proxy.slow["PUT"] = 1.5  # the adoption's update answers late: the group is pushed before the member is linked
    p = provisioning(vault, [app3])
    try:
        rid = str(p.service.create("User", person("adopt-3@example.test")).body["id"])  # type: ignore[index]
        p.service.create("Group", {"schemas": [GROUP], "displayName": "Team Three", "members": [{"value": rid}]})
        wait_until(lambda: "provision.adopted" in _pushes(p))
        remote = next(u["id"] for u in app3.users())
        wait_until(lambda: [m["value"] for g in app3.groups() for m in g.get("members") or []] == [remote])
    finally:
        p.close()
        proxy.stop()


def test_a_user_queued_just_after_the_start_is_created_without_a_search(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What was queued before the dispatcher started may have reached a target in a former run (so it is searched
    for first); what is queued after ``start()`` returned is this run's own. The boundary used to be read on the
    loop thread after start() had returned, so a create committed in between counted as a former run's and was
    searched for (the test above then saw "by a search" in 1 CI run of several). A slow first read makes that
    window wide here: on the old code this test fails every time."""
    (app1,) = scim_targets(1)
    with app1.client() as http:
        assert http.post("/Users", json={"userName": "adopt-2@example.test"}).status_code == 201
    real_last_seq = Dispatcher._last_seq

    def slow_last_seq(self: Dispatcher) -> int:
        time.sleep(0.5)
        return real_last_seq(self)

    monkeypatch.setattr(Dispatcher, "_last_seq", slow_last_seq)
    p = provisioning(vault, [app1])
    try:
        p.service.create("User", person("adopt-2@example.test"))
        wait_until(lambda: len(_pushes(p)) == 1)
        (adopted,) = _events(vault, "provision.adopted")
        assert adopted.details["found"] == "after the create answered 409"
    finally:
        p.close()
