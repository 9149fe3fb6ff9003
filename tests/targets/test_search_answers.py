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
