"""A 409 on create, then a search by userName, found the account Custos had linked to ANOTHER subject: a person
renamed at the IdP whose rename had not reached the target yet (it was being retried), while a new person took
the old userName. The new person adopted the other's account: two subjects linked to one account, the new one
"held" while the target had no account of theirs, and the next pushes overwrote one person's account with the
other's data (an erasure of either would delete the other). Such an account is not adopted: the push waits for
the other subject's change and creates its own account. Against a real scim2-server behind a fault proxy."""

from __future__ import annotations

from collections.abc import Callable

from app.feed import links, outbox
from app.store.vault import Vault
from app.targets.config import list_targets
from app.targets.policy_change import apply_policy
from tests.erasure.support import person
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.faults import FaultProxy
from tests.targets.support import RECEIVES, policy_with_recipients, provisioning

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def test_an_account_linked_to_another_subject_is_never_adopted(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    (app1,) = scim_targets(1)
    proxy = FaultProxy(app1.base_url.removesuffix("/v2")).start()
    p = provisioning(vault, [app1])
    with vault.write_transaction() as conn:
        conn.exec_driver_sql("UPDATE targets SET base_url = ?", (proxy.base_url,))
    try:
        first = str(p.service.create("User", person("reused@example.test")).body["id"])  # type: ignore[index]
        wait_until(lambda: _linked(vault, first) is not None)
        first_remote = _linked(vault, first)
        # The rename's PUT is answered 503 once (the target busy): it reaches the target a moment later.
        proxy.fail("PUT", 503, path=f"/Users/{first_remote}", headers={"Retry-After": "2"})
        p.service.patch("User", first, {"schemas": [PATCH], "Operations": [
            {"op": "replace", "path": "userName", "value": "renamed@example.test"}]})  # fmt: skip
        wait_until(lambda: proxy.count("PUT") >= 1)
        second = str(p.service.create("User", person("reused@example.test", "Other")).body["id"])  # type: ignore[index]
        wait_until(
            lambda: sorted(u["userName"] for u in app1.users()) == ["renamed@example.test", "reused@example.test"],
            timeout=30,
        )
        wait_until(lambda: _linked(vault, second) is not None, timeout=30)
        remote = {str(u["userName"]): str(u["id"]) for u in app1.users()}
        assert _linked(vault, first) == remote["renamed@example.test"]
        assert _linked(vault, second) == remote["reused@example.test"]  # its own account, not the other's
        assert len({_linked(vault, first), _linked(vault, second)}) == 2
    finally:
        p.close()
        proxy.stop()


def _linked(vault: Vault, resource_id: str) -> str | None:
    with vault.read_connection() as conn:
        (target,) = list_targets(conn)
        link = links.get(conn, target.id, resource_id)
    return None if link is None else link.remote_id


def test_an_account_of_another_identity_is_not_adopted_by_its_user_name(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    """A leaver's account kept at the application (its externalId the IdP's id of that person), and someone new
    given the same userName: the create's 409 led to a search by userName, and the new person adopted the leaver's
    account there — its data, its access. The externalIds differ: a conflict the operator resolves, not an adoption."""
    (app1,) = scim_targets(1)
    with app1.client() as http:
        kept = {"userName": "rehired@example.test", "externalId": "leaver-object-id", "displayName": "Leaver"}
        assert http.post("/Users", json=kept).status_code == 201
    p = provisioning(vault, [app1])
    try:
        with_external_id = {"app1": [*RECEIVES["app1"], "externalId"]}  # the recipient receives externalId too
        apply_policy(vault, policy_with_recipients({"app1"}, receives=with_external_id), "dpo")
        newcomer = {**person("rehired@example.test", "New"), "externalId": "newcomer-object-id"}
        rid = str(p.service.create("User", newcomer).body["id"])  # type: ignore[index]
        wait_until(lambda: _failed(vault) == 1)
        (account,) = app1.users()
        assert (account["externalId"], account["displayName"]) == ("leaver-object-id", "Leaver")  # left alone
        assert _linked(vault, rid) is None
        error = _last_error(vault)
        assert error.startswith("the target holds an account with this userName for another identity (its externalId "
                                "differs): not adopted")  # fmt: skip
        assert "rehired@example.test" not in error and "object-id" not in error
    finally:
        p.close()


def _failed(vault: Vault) -> int:
    with vault.read_connection() as conn:
        (target,) = list_targets(conn)
        return outbox.stats(conn, target.id).failed


def _last_error(vault: Vault) -> str:
    with vault.read_connection() as conn:
        (target,) = list_targets(conn)
        return str(outbox.stats(conn, target.id).last_error)


def test_a_leavers_deactivated_account_is_a_conflict_not_an_adoption(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    """A target that can only deactivate keeps a leaver's account (and its link here). A newcomer given the same
    userName got the 409, the search found the leaver's account, and adopted it: the leaver's account, data and
    history at the application became the newcomer's. Nothing of the leaver's is queued, so waiting cannot help:
    the push fails at once with a conflict for the operator."""
    (app1,) = scim_targets(1)
    p = provisioning(vault, [app1], erase_mode="deactivate")
    try:
        leaver = str(p.service.create("User", person("seat@example.test", "Leaver")).body["id"])  # type: ignore[index]
        wait_until(lambda: _linked(vault, leaver) is not None)
        p.service.delete("User", leaver)  # the IdP deletes the leaver; the target deactivates the account
        wait_until(lambda: [u.get("active") for u in app1.users()] == [False])
        newcomer = str(p.service.create("User", person("seat@example.test", "Newcomer")).body["id"])  # type: ignore[index]
        wait_until(lambda: _failed(vault) == 1, timeout=10)
        (account,) = app1.users()
        assert (account["active"], account["displayName"]) == (False, "Leaver Subject")  # left as it was
        assert _linked(vault, newcomer) is None
        assert _last_error(vault) == ("the account found at the target by userName is linked to another subject "
                                      "here: not adopted; resolve it at the target, then repair")  # fmt: skip
    finally:
        p.close()
