"""A provisioning DELETE that the target answers 204 while it keeps serving the account fails its verification;
the outbox item and the trail record the DELETE's own status (204), not None, which read as "no answer". Against a
real scim2-server behind the fault proxy (which answers the DELETE without carrying it out)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Row, select

from app.audit.trail import of_kind
from app.feed.tables import OutboxItem
from app.store.vault import Vault
from tests.erasure.support import person
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.faults import FaultProxy
from tests.targets.support import provisioning

USER_NAME = "kept-after-delete@example.test"


def _failed_delete(vault: Vault) -> Row[Any] | None:
    items = OutboxItem.__table__
    with vault.read_connection() as conn:
        return conn.execute(select(items).where(items.c.operation == "delete", items.c.state == "failed")).first()


def test_a_delete_that_fails_verification_records_the_deletes_status(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    (app1,) = scim_targets(1)
    proxy = FaultProxy(app1.base_url.removesuffix("/v2")).start()
    app1.port = proxy.port  # the target is configured through the proxy
    p = provisioning(vault, [app1])
    try:
        rid = str(p.service.create("User", person(USER_NAME)).body["id"])  # type: ignore[index]
        wait_until(lambda: len(app1.users()) == 1 and proxy.count("POST") == 1)
        proxy.fail("DELETE", 204)  # "deleted", yet nothing was: the account is still served
        p.service.delete("User", rid)
        wait_until(lambda: _failed_delete(vault) is not None)

        item = _failed_delete(vault)
        assert item is not None and item.last_status == 204
        assert (item.last_error or "").startswith("verification failed")
        with vault.read_connection() as conn:
            (event,) = of_kind(conn, "provision.verification_failed")  # a recipient still holding it, named so
            assert of_kind(conn, "provision.failed") == []
        assert (event.details["operation"], event.details["status"]) == ("delete", 204)
        assert USER_NAME not in str(event.details) and USER_NAME not in (item.last_error or "")
        assert [u["userName"] for u in app1.users()] == [USER_NAME]
    finally:
        p.close()
        proxy.stop()
