"""A target that holds more than its recipient may receive (Art. 5(1)(c)): the reconcile names every attribute
beyond the mapping, sub-attributes of a complex attribute it receives part of included. A middle name held under
``name``, of which the recipient receives only the given and family names, used to be reported as "differing
attributes: name" — a difference to push again, not data the recipient must not hold."""

from __future__ import annotations

from collections.abc import Callable

from app.directory.schema import ENTERPRISE_SCHEMA
from app.store.vault import Vault
from app.targets.reconcile import reconcile
from app.targets.status import health
from tests.erasure.support import person
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.faults import FaultProxy
from tests.targets.support import Provisioning, provisioning


def _held(p: Provisioning) -> int:
    with p.vault.read_connection() as conn:
        (target,) = health(conn, p.policy.get().policy)
    return target.held if target.pending == 0 else 0


def test_attributes_beyond_the_mapping_are_named(vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]) -> None:
    (app2,) = scim_targets(1)
    app2.name = "app2"  # title, name.givenName, name.familyName, department: see tests/targets/support.py
    proxy = FaultProxy(app2.base_url.removesuffix("/v2")).start()
    app2.port = proxy.port  # the target is configured through the proxy
    p = provisioning(vault, [app2])
    try:
        p.service.create("User", person("beyond-1@example.test"))
        wait_until(lambda: _held(p) == 1)
        assert reconcile(vault, p.policy, "app2").clean

        proxy.extra = {
            "name": {"middleName": "Quill"},
            "nickName": "Seven",
            ENTERPRISE_SCHEMA: {"employeeNumber": "701"},
        }
        drift = reconcile(vault, p.policy, "app2")
        assert drift.differing == {}  # what it was sent is still there, as sent
        (names,) = drift.beyond_mapping.values()
        assert names == sorted(["name.middleName", "nickName", f"{ENTERPRISE_SCHEMA}:employeeNumber"])
        assert drift.lines() == [
            "1 account(s) hold attributes beyond the mapping: "
            f"name.middleName, nickName, {ENTERPRISE_SCHEMA}:employeeNumber"
        ]
    finally:
        p.close()
        proxy.stop()
