"""A search at the target is trusted only for what it returns: a target that ignores the ``filter`` parameter (it
does not support filtering, or a gateway drops the query) answers with its whole list. The push took the first
account of that list as the subject's, adopted it and PUT the subject's data over somebody else's account. Now an
account is a match only if it holds the value searched for. Against a real scim2-server behind a fault proxy."""

from __future__ import annotations

from collections.abc import Callable

from app.audit.trail import of_kind
from app.store.vault import Vault
from tests.erasure.support import person
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.faults import FaultProxy
from tests.targets.support import provisioning

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def test_an_unfiltered_answer_never_adopts_somebody_else(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    (app1,) = scim_targets(1)
    with app1.client() as http:  # the application holds another person, created there by its own admin
        assert http.post("/Users", json={"userName": "somebody-else@example.test"}).status_code == 201
    proxy = FaultProxy(app1.base_url.removesuffix("/v2")).start()
    proxy.ignore = {"filter"}
    proxy.fail("POST", 503)  # the first create is lost: the retry searches before creating
    upstream = app1.port
    app1.port = proxy.port
    p = provisioning(vault, [app1])
    app1.port = upstream
    try:
        p.service.create("User", person("searched-1@example.test"))
        with vault.read_connection() as conn:
            wait_until(lambda: len(of_kind(conn, "provision.created") + of_kind(conn, "provision.adopted")) == 1)
            assert of_kind(conn, "provision.adopted") == []
        names = sorted(user["userName"] for user in app1.users())
        assert names == ["searched-1@example.test", "somebody-else@example.test"]  # nobody overwritten
    finally:
        p.close()
        proxy.stop()


def test_a_target_that_cannot_filter_still_gets_its_users_and_groups(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    """A target that answers a filtered GET with 501 Not Implemented (django-scim2 as installed, whose
    ServiceProviderConfig says filter unsupported): a retried create searches first, and every search was retried
    as a 5xx — the create was never sent, and a group (always searched for) never reached such a target at all.
    Now a 501 finds nothing and the create goes out."""
    (app3,) = scim_targets(1)
    app3.name = "app3"  # the recipient that receives groups as well
    proxy = FaultProxy(app3.base_url.removesuffix("/v2")).start()
    proxy.fail("POST", 503, path="/Users")  # the first create is lost: its retry searches before creating
    proxy.cannot_filter = True
    upstream = app3.port
    app3.port = proxy.port
    p = provisioning(vault, [app3])
    app3.port = upstream
    try:
        rid = str(p.service.create("User", person("unfiltered@example.test")).body["id"])  # type: ignore[index]
        wait_until(lambda: [u["userName"] for u in app3.users()] == ["unfiltered@example.test"], timeout=20)
        p.service.create("Group", {"schemas": [GROUP], "displayName": "Unfiltered", "members": [{"value": rid}]})
        wait_until(lambda: [g["displayName"] for g in app3.groups()] == ["Unfiltered"], timeout=20)
        assert ("GET", "/v2/Users") in proxy.log and ("GET", "/v2/Groups") in proxy.log  # searched: answered 501
    finally:
        p.close()
        proxy.stop()
