"""Reconcile walks the target a page at a time and reads the mirror's documents only for the accounts on each
page, so a check of 100,000 accounts never holds every document of either side (decision 0037). At a real
scim2-server target: drift of every kind is still found across page boundaries."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from app.targets import reconcile as module
from app.targets.config import get_target, update_target
from app.targets.verification import latest
from tests.conftest import new_user
from tests.erasure.support import person
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.faults import FaultProxy
from tests.targets.support import provisioning

USERS = 12
PAGE = 5


def _provisioned(vault: Vault, app1: ScimTarget) -> list[str]:
    """USERS people pushed to app1 by the real dispatcher; their ids in the mirror."""
    setup = provisioning(vault, [app1])
    try:
        ids = [str(setup.service.create("User", person(f"p{n:02}@example.test")).body["id"])  # type: ignore[index]
               for n in range(USERS)]  # fmt: skip
        wait_until(lambda: len(app1.users()) == USERS)
    finally:
        setup.close()
    return ids


def test_reconcile_reads_the_mirror_page_by_page(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]], monkeypatch: pytest.MonkeyPatch
) -> None:
    (app1,) = scim_targets(1)
    ids = _provisioned(vault, app1)
    by_name = {u["userName"]: u["id"] for u in app1.users()}
    with app1.client() as http:  # one of each drift, at the target
        assert http.delete(f"/Users/{by_name['p03@example.test']}").status_code == 204
        changed = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "replace", "path": "displayName", "value": "Someone Else"}]}  # fmt: skip
        assert http.patch(f"/Users/{by_name['p07@example.test']}", json=changed).status_code in (200, 204)
        assert http.post("/Users", json=new_user("stranger@example.test")).status_code == 201

    batches: list[int] = []
    read = module._Expected.documents

    def counted(self: module._Expected, resource_ids: list[str]) -> dict[str, dict[str, object]]:
        batches.append(len(resource_ids))
        return read(self, resource_ids)

    monkeypatch.setattr(module, "PAGE", PAGE)
    monkeypatch.setattr(module._Expected, "documents", counted)
    drift = module.reconcile(vault, PolicyInForce(vault), "app1")

    # Every document read was for one page of the target, never the whole mirror at once.
    assert batches and max(batches) <= PAGE and len(batches) >= USERS // PAGE
    assert sum(batches) == USERS - 1  # each held account compared once; the stranger has no document
    assert drift.checked == USERS  # 11 held + the stranger
    assert drift.missing_at_target == [ids[3]]
    assert list(drift.differing) == [ids[7]] and drift.differing[ids[7]] == ["displayName"]
    assert len(drift.unknown_at_target) == 1 and drift.unknown_at_target[0] not in ids


def test_an_account_gone_from_the_mirror_during_the_walk_is_not_also_missing(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person erased after the ids were read but before their page arrived: the target holds one account too
    many, and nobody is missing there (a repair must not push the erased person back)."""
    (app1,) = scim_targets(1)
    ids = _provisioned(vault, app1)
    gone = ids[4]
    read = module._Expected.documents

    def erased_meanwhile(self: module._Expected, resource_ids: list[str]) -> dict[str, dict[str, object]]:
        return {rid: doc for rid, doc in read(self, resource_ids).items() if rid != gone}

    monkeypatch.setattr(module, "PAGE", PAGE)
    monkeypatch.setattr(module._Expected, "documents", erased_meanwhile)
    drift = module.reconcile(vault, PolicyInForce(vault), "app1", repair=True)

    assert len(drift.unknown_at_target) == 1
    assert drift.missing_at_target == []
    assert drift.repaired == 0


def test_a_listing_that_cannot_be_read_is_no_drift(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GET /Users answered 404 (a wrong base path) or cut short (an empty page before totalResults) read as a
    target holding nobody: every person 'missing at the target', kept as the target's state, and a repair queued a
    push of each. It is refused, and nothing is recorded."""
    from sqlalchemy import text

    from app.core.errors import ConfigError

    (app1,) = scim_targets(1)
    _provisioned(vault, app1)
    with vault.write_transaction() as conn:
        conn.execute(text("UPDATE targets SET base_url = base_url || '/nowhere' WHERE name = 'app1'"))
    with pytest.raises(ConfigError, match="nothing was compared"):
        module.reconcile(vault, PolicyInForce(vault), "app1", repair=True)
    with vault.write_transaction() as conn:
        conn.execute(text("UPDATE targets SET base_url = replace(base_url, '/nowhere', '') WHERE name = 'app1'"))

    real = module.TargetClient.request

    async def cut_short(self: module.TargetClient, method: str, path: str, body: None = None, **params: str) -> object:
        answer = await real(self, method, path, body, **params)
        if params.get("startIndex") != "1":  # the second page comes back empty; totalResults still says 12
            answer.body["Resources"] = []  # type: ignore[index]
        return answer

    monkeypatch.setattr(module, "PAGE", PAGE)
    monkeypatch.setattr(module.TargetClient, "request", cut_short)
    with pytest.raises(ConfigError, match="nothing was compared"):
        module.reconcile(vault, PolicyInForce(vault), "app1", repair=True)
    with vault.read_connection() as conn:
        assert conn.execute(text("SELECT count(*) FROM target_checks")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM outbox WHERE state = 'pending'")).scalar_one() == 0


def _through_proxy(vault: Vault, proxy: FaultProxy) -> None:
    with vault.write_transaction() as conn:
        update_target(conn, "app1", base_url=proxy.base_url)


def test_a_target_that_ignores_start_index_is_not_read_as_missing_everyone_past_its_first_page(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It answers its first page for every page: counted as new accounts, the walk ended after three pages of the
    same five, and seven people held there were reported missing (a repair would push them all again)."""
    (app1,) = scim_targets(1)
    _provisioned(vault, app1)
    proxy = FaultProxy(app1.base_url.removesuffix("/v2")).start()
    try:
        _through_proxy(vault, proxy)
        monkeypatch.setattr(module, "PAGE", PAGE)
        proxy.ignore = {"startIndex"}
        with pytest.raises(module.Unreadable, match="ignore startIndex"):
            module.reconcile(vault, PolicyInForce(vault), "app1")
        with vault.read_connection() as conn:
            assert latest(conn, get_target(conn, "app1").id).last is None  # type: ignore[union-attr]  # nothing kept

        proxy.ignore = set()
        proxy.omit = {"totalResults"}  # read until an empty page: all of them, no one missing
        drift = module.reconcile(vault, PolicyInForce(vault), "app1")
        assert drift.clean and drift.checked == USERS
    finally:
        proxy.stop()
