"""What a real SCIM implementation answers beside what it was sent, without holding anything more: django-scim2
composes ``name.formatted`` and ``displayName`` of the given and family names it receives, and answers
``"emails": [{"value": "", "primary": true}]`` for an account without an address. Each was called data held beyond
the mapping: every push PATCHed a ``remove`` (which django-scim2 answers 501), recorded
``provision.beyond_mapping`` (a failure, forwarded to the SIEM) for every account, and the reconcile called the
target "drift" for good. A value made only of words that were sent, or an element holding only labels, holds
nothing beyond. Against a real scim2-server behind a proxy that answers as django-scim2 does."""

from __future__ import annotations

from collections.abc import Callable

from app.audit.trail import of_kind
from app.store.vault import Vault
from app.targets.reconcile import reconcile
from app.targets.status import health
from tests.erasure.support import person
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.faults import FaultProxy
from tests.targets.support import provisioning


def test_values_composed_of_what_was_sent_are_not_beyond_the_mapping(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    (app2,) = scim_targets(1)  # receives userName, given and family name, title, department
    app2.name = "app2"
    upstream = app2.port
    proxy = FaultProxy(app2.base_url.removesuffix("/v2")).start()
    proxy.extra = {"name": {"formatted": "Seven Subject"}, "displayName": "Seven Subject",
                   "emails": [{"value": "", "primary": True}]}  # fmt: skip
    app2.port = proxy.port
    p = provisioning(vault, [app2])
    app2.port = upstream
    try:
        p.service.create("User", person("derived@example.test", "Seven", "Subject"))
        wait_until(lambda: len(of_kind_in(vault, "provision.")) >= 1)
        with vault.read_connection() as conn:
            assert of_kind(conn, "provision.beyond_mapping") == []
            (created,) = of_kind(conn, "provision.created")
        assert "held_beyond" not in created.details and proxy.count("PATCH") == 0  # nothing to remove
        assert reconcile(vault, p.policy, "app2").clean
        with vault.read_connection() as conn:
            (target,) = health(conn, p.policy.get().policy)
        assert target.state == "in sync"

        proxy.extra = {"nickName": "Sev", "name": {"formatted": "Seven B. Subject"}}  # data it was never sent
        drift = reconcile(vault, p.policy, "app2")
        assert list(drift.beyond_mapping.values()) == [["name.formatted", "nickName"]]
    finally:
        p.close()
        proxy.stop()


def of_kind_in(vault: Vault, prefix: str) -> list[object]:
    with vault.read_connection() as conn:
        return list(of_kind(conn, prefix))
