"""A target that treats PUT as a merge (as some real applications do) keeps whatever a PUT leaves out. An attribute
the policy stops sending, or one the target holds beyond the mapping, stayed there for good: the push and the
repair sent the same PUT again, the target merged it, and the trail said "replaced". Now the push reads the
account back, removes what is held beyond the mapping (a PATCH ``remove`` per path), reads it back again, and its
trail entry names only what that read-back confirmed gone."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from app.audit.trail import of_kind
from app.directory.schema import ENTERPRISE_SCHEMA
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from app.targets.reconcile import reconcile
from app.targets.status import health
from tests.erasure.support import person
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.faults import FaultProxy
from tests.targets.support import RECEIVES, Provisioning, policy_with_recipients, provisioning

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


Merging = tuple[Provisioning, ScimTarget, FaultProxy]


@pytest.fixture
def merging(vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]) -> Iterator[Merging]:
    """app2 (given and family name, title, department) behind a proxy that merges every PUT of a User."""
    (app2,) = scim_targets(1)
    app2.name = "app2"
    upstream = app2.base_url
    proxy = FaultProxy(upstream.removesuffix("/v2")).start()
    proxy.merge_put = True
    app2.port = proxy.port  # Custos pushes through the proxy; the test reads the target itself below
    p = provisioning(vault, [app2])
    app2.port = int(upstream.split(":")[2].split("/")[0])
    try:
        yield p, app2, proxy
    finally:
        p.close()
        proxy.stop()


def _settled(p: Provisioning) -> bool:
    with p.vault.read_connection() as conn:
        (target,) = health(conn, p.policy.get().policy)
    return target.pending == 0 and target.sync is not None and target.sync.missing == 0


def test_an_attribute_the_policy_stops_sending_is_removed(merging: Merging) -> None:
    p, app2, _proxy = merging
    p.service.create("User", person("merge-1@example.test"))
    wait_until(lambda: _settled(p) and len(app2.users()) == 1)
    assert app2.users()[0]["title"] == "Engineer"

    narrower = [a for a in RECEIVES["app2"] if a not in ("title", "name.familyName")]
    apply_policy(p.vault, policy_with_recipients({"app2"}, {"app2": narrower}), "dpo")
    wait_until(lambda: _settled(p) and "title" not in app2.users()[0], timeout=10)

    (held,) = app2.users()
    assert "familyName" not in held["name"] and held["name"]["givenName"] == "Seven"
    assert reconcile(p.vault, p.policy, "app2").clean
    with p.vault.read_connection() as conn:
        last = of_kind(conn, "provision.replaced")[-1]
    assert last.details["removed"] == ["name.familyName", "title"]


def test_a_repair_removes_what_is_held_beyond_the_mapping(merging: Merging) -> None:
    p, app2, _proxy = merging
    p.service.create("User", person("merge-2@example.test"))
    wait_until(lambda: _settled(p) and len(app2.users()) == 1)
    (held,) = app2.users()
    with app2.client() as http:  # someone at the application adds data Custos never sent
        patch = {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "nickName", "value": "Seven"},
                                                       {"op": "add", "path": "name.middleName", "value": "Q"}]}
        assert http.patch(f"/Users/{held['id']}", json=patch).status_code in (200, 204)

    drift = reconcile(p.vault, p.policy, "app2", repair=True)
    assert list(drift.beyond_mapping.values()) == [["name.middleName", "nickName"]]
    wait_until(lambda: _settled(p) and "nickName" not in app2.users()[0], timeout=10)

    assert "middleName" not in app2.users()[0]["name"]
    assert reconcile(p.vault, p.policy, "app2").clean
    with p.vault.read_connection() as conn:
        last = of_kind(conn, "provision.replaced")[-1]
    assert last.details["removed"] == ["name.middleName", "nickName"]
    assert ENTERPRISE_SCHEMA in app2.users()[0]  # what it receives is still there


def test_a_removal_the_target_ignores_is_not_called_removed(merging: Merging) -> None:
    p, app2, proxy = merging
    p.service.create("User", person("merge-3@example.test"))
    wait_until(lambda: _settled(p) and len(app2.users()) == 1)

    proxy.fail("PATCH", 204)  # "done", though nothing was removed
    narrower = [a for a in RECEIVES["app2"] if a != "title"]
    apply_policy(p.vault, policy_with_recipients({"app2"}, {"app2": narrower}), "dpo")
    with p.vault.read_connection() as conn:
        wait_until(lambda: len(of_kind(conn, "provision.beyond_mapping")) == 1, timeout=10)
        (kept,) = of_kind(conn, "provision.beyond_mapping")
        pushed = of_kind(conn, "provision.replaced")[-1]
    assert app2.users()[0]["title"] == "Engineer"  # still there: and the trail says so
    assert kept.outcome == "failure" and kept.details["attributes"] == ["title"]
    assert kept.details["reason"] == "still held after the removal was acknowledged"
    assert "removed" not in pushed.details and pushed.details["held_beyond"] == ["title"]
    with p.vault.read_connection() as conn:
        (target,) = health(conn, p.policy.get().policy)
    assert target.state != "in sync"
    assert reconcile(p.vault, p.policy, "app2").beyond_mapping  # and the next check finds it


def test_a_target_without_patch_keeps_them_and_says_why(merging: Merging) -> None:
    p, app2, proxy = merging
    p.service.create("User", person("merge-4@example.test"))
    wait_until(lambda: _settled(p) and len(app2.users()) == 1)

    proxy.fail("PATCH", 501)
    narrower = [a for a in RECEIVES["app2"] if a != "title"]
    apply_policy(p.vault, policy_with_recipients({"app2"}, {"app2": narrower}), "dpo")
    with p.vault.read_connection() as conn:
        wait_until(lambda: len(of_kind(conn, "provision.beyond_mapping")) == 1, timeout=10)
        (kept,) = of_kind(conn, "provision.beyond_mapping")
    assert kept.details["reason"] == "removal refused: PATCH answered 501"
    assert app2.users()[0]["title"] == "Engineer"


def test_a_target_that_replaces_on_put_is_sent_nothing_more(merging: Merging) -> None:
    """The PUT's answer is the read-back: a target that replaces as RFC 7644 says gets one request per update."""
    p, app2, proxy = merging
    proxy.merge_put = False
    rid = str((p.service.create("User", person("merge-5@example.test")).body or {})["id"])
    wait_until(lambda: _settled(p) and len(app2.users()) == 1)
    before = len(proxy.log)
    p.service.patch("User", rid, {"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": "title", "value": "Lead"}]})  # fmt: skip
    wait_until(lambda: _settled(p) and app2.users()[0]["title"] == "Lead")
    assert [method for method, _path in proxy.log[before:]] == ["PUT"]
