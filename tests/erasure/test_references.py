"""Erasure leaves no identifier behind: other users' manager references to the erased subject are cleared (document,
index rows, served representation) and pushed to the targets; group memberships go; a later GET of the erased id
(404) keys nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from app.audit.tables import SubjectKey
from app.audit.trail import of_kind
from app.directory import repository as repo
from app.directory.schema import ENTERPRISE_SCHEMA
from app.erasure.references import clear, referrers
from app.erasure.requests import request_erasure
from app.erasure.tables import ErasureRequest
from app.erasure.worker import drive
from app.feed.tables import OutboxItem
from app.policy.edit import add_recipient
from app.policy.versions import default_policy_text
from app.store.models import AttributeValue, ScimResource, with_paths
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from tests.conftest import GROUP_SCHEMA, LiveServer, new_user
from tests.erasure.support import TargetSpec, add_targets, dispatcher_for, person, service_for
from tests.targets.conftest import ScimTarget, wait_until

_DEPARTMENT = f'path = "{ENTERPRISE_SCHEMA}:department"\ncategory = "employment"\npurposes = ["internal-directory"]\n'
_MANAGER = "\n[[attributes]]\n" + _DEPARTMENT.replace(":department", ":manager")


def _policy_with_manager() -> str:
    """The shipped default plus the manager, and one recipient that receives it."""
    text = default_policy_text()
    assert _DEPARTMENT in text
    text = text.replace(_DEPARTMENT, _DEPARTMENT + _MANAGER, 1)
    recipient = {
        "id": "directory",
        "name": "Directory",
        "kind": "processor",
        "country": "IE",
        "contract_link": "https://contracts.example.test/directory",
        "purposes": ["access-management", "internal-directory"],  # userName serves access management only
        "attributes": ["userName", f"{ENTERPRISE_SCHEMA}:manager"],
    }
    return add_recipient(text, recipient)


def _reporting_to(user_name: str, manager_id: str) -> dict[str, object]:
    body = person(user_name)
    body[ENTERPRISE_SCHEMA] = {  # type: ignore[index]
        "department": "R&D",
        "manager": {"value": manager_id, "$ref": f"../Users/{manager_id}", "displayName": "The Boss"},
    }
    return body


def _rows_naming(vault: Vault, resource_id: str) -> list[tuple[str, str]]:
    with vault.read_connection() as conn:
        found = conn.execute(with_paths(AttributeValue.value_str).where(AttributeValue.value_str.contains(resource_id)))
        # Documents are stored packed (decision 0033): read back as text, not searched in SQL.
        stored = conn.execute(select(ScimResource.id, ScimResource.document)).all()
    documents = [rid for rid, text in stored if resource_id in text]
    return [(str(p), str(v)) for p, v in found] + [("document", d) for d in documents]


def _remote_manager(target: ScimTarget, user_name: str) -> object:
    user = next((u for u in target.users() if u["userName"] == user_name), None)
    if user is None:
        return "not there yet"
    return (user.get(ENTERPRISE_SCHEMA) or {}).get("manager")


def test_erasure_clears_manager_references_and_pushes_the_change(vault: Vault, apps: list[ScimTarget]) -> None:
    add_targets(vault, [TargetSpec("directory", apps[0].base_url, apps[0].token, "directory")])
    apply_policy(vault, _policy_with_manager(), "dpo")
    service = service_for(vault)
    dispatcher = dispatcher_for(vault)
    try:
        boss = str(service.create("User", person("ref-boss@example.test")).body["id"])  # type: ignore[index]
        rep = str(service.create("User", _reporting_to("ref-rep@example.test", boss)).body["id"])  # type: ignore[index]
        wait_until(lambda: isinstance(_remote_manager(apps[0], "ref-rep@example.test"), dict))
        dispatcher.stop()  # so that the queued change is seen before it is pushed
        assert {p for p, _ in _rows_naming(vault, boss)} >= {"document", f"{ENTERPRISE_SCHEMA.lower()}:manager.value"}

        request_id = request_erasure(vault, [boss], "art17-1b", "dpo")

        assert _rows_naming(vault, boss) == []  # neither the document nor an index row names the erased id
        served = service.get("User", rep).body
        assert "manager" not in served[ENTERPRISE_SCHEMA] and boss not in json.dumps(served)  # type: ignore[index]
        with vault.read_connection() as conn:  # queued in the erasure's transaction, on the trail
            queued = conn.execute(
                select(OutboxItem.operation).where(OutboxItem.resource_id == rep, OutboxItem.state == "pending")
            ).all()
            updated = [e for e in of_kind(conn, "scim.resource.updated") if e.actor == "system:erasure"]
        assert queued == [("upsert",)]
        with vault.read_connection() as conn:  # the count is in the request's local facts (and the receipt)
            facts = json.loads(conn.execute(select(ErasureRequest.local_facts)).scalar_one())
        assert facts["references_cleared"] == 1
        assert len(updated) == 1 and updated[0].details["attributes"] == ["manager"]

        dispatcher = dispatcher_for(vault)
        assert drive(vault, [request_id], timeout=20)
        wait_until(lambda: _remote_manager(apps[0], "ref-rep@example.test") is None)
        assert "ref-boss@example.test" not in {u["userName"] for u in apps[0].users()}
    finally:
        dispatcher.stop()
        service.close()


def test_no_key_and_no_membership_after_erasure(live: LiveServer, client: httpx.Client) -> None:
    vault = live.server.vault
    boss = client.post("/Users", json=new_user("ref-live-boss@example.test")).json()["id"]
    manager = {"value": boss, "$ref": f"../Users/{boss}"}
    rep = client.post("/Users", json=new_user("ref-live-rep@example.test", **{ENTERPRISE_SCHEMA: {"manager": manager}}))
    rep_id = rep.json()["id"]
    group = client.post(
        "/Groups", json={"schemas": [GROUP_SCHEMA], "displayName": "ref-live-team", "members": [{"value": boss}]}
    ).json()

    request_erasure(vault, [boss], "art17-1b", "dpo")

    assert _rows_naming(vault, boss) == []  # no document (the group's included) and no index row
    assert client.get(f"/Users/{boss}").status_code == 404
    assert client.get(f"/Users/{rep_id}").json().get(ENTERPRISE_SCHEMA, {}).get("manager") is None
    members = client.get(f"/Groups/{group['id']}").json().get("members") or []
    assert boss not in json.dumps(members)
    assert client.get(f"/Users/{rep_id}").status_code == 200
    live.server.recorder.flush()  # type: ignore[union-attr]
    with vault.read_connection() as conn:
        keyed = conn.execute(select(SubjectKey.resource_id).where(SubjectKey.resource_id == boss)).all()
        requests = [e for e in of_kind(conn, "scim.request") if e.details.get("status") == 404]
        rep_keyed = conn.execute(select(SubjectKey.resource_id).where(SubjectKey.resource_id == rep_id)).all()
    assert keyed == []  # the 404 did not key the erased id afresh
    assert requests and requests[-1].subject is None  # recorded, without a subject
    assert rep_keyed == [(rep_id,)]  # a held subject is still named on its requests


def test_scim_delete_clears_references_to_the_deleted_user(live: LiveServer, client: httpx.Client) -> None:
    """Found from outside (verify-sec): an IdP's DELETE erases the user at once (docs/security.md), yet its id
    stayed in the other users' manager (document and index rows) and was served back as a dangling reference."""
    vault = live.server.vault
    boss = client.post("/Users", json=new_user("ref-del-boss@example.test")).json()["id"]
    manager = {"value": boss, "$ref": f"../Users/{boss}"}
    rep = client.post("/Users", json=new_user("ref-del-rep@example.test", **{ENTERPRISE_SCHEMA: {"manager": manager}}))
    rep_id, version = rep.json()["id"], rep.headers["ETag"]

    assert client.delete(f"/Users/{boss}").status_code == 204

    assert _rows_naming(vault, boss) == []
    served = client.get(f"/Users/{rep_id}")
    assert boss not in served.text and served.headers["ETag"] != version  # a new version, as any other change
    with vault.read_connection() as conn:  # on the trail in the DELETE's transaction (pushed like any update)
        updated = [e for e in of_kind(conn, "scim.resource.updated") if e.actor == "system:erasure"]
    assert updated and updated[-1].details["attributes"] == ["manager"]


def test_referrers_are_found_by_an_equality_search_on_the_value_index(vault: Vault) -> None:
    """The manager lookup is, for ``value`` and for ``$ref`` alike, a search for one id in the (code, value_ci)
    index: not a scan of every attribute row, and not a range over every manager's row (``value_ci>?``), which
    made every DELETE read all of them (20 ms at 10,000 users, growing with the mirror)."""
    from app.erasure.references import _REFERRERS

    compiled = _REFERRERS.statement.compile(vault.engine)
    bound = compiled.construct_params({"rid": "x", "rid_ci": "x"})
    values = tuple(bound[name] for name in compiled.positiontup or ())
    with vault.engine.connect() as conn:
        plan = [str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values)]
    searches = [step for step in plan if "attribute_values" in step]
    assert len(searches) == 2, plan
    assert all("ix_attr_path_ci (code=? AND value_ci=?)" in step for step in searches), plan


def test_a_manager_named_only_by_ref_is_found_and_cleared(vault: Vault) -> None:
    """A stored ``manager`` naming its user by ``$ref`` alone (scim2-models drops such a manager on the way in today,
    but a document need not have come that way) is found through the id the URI ends in, and cleared."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    boss = "b0ss-ref-only"
    document = {**person("ref-only-rep@example.test"), ENTERPRISE_SCHEMA: {"manager": {"$ref": f"../Users/{boss}/"}}}
    with vault.write_transaction() as conn:
        repo.insert_resource(conn, "User", boss, person("ref-only-boss@example.test"), now)
        repo.insert_resource(conn, "User", "rep-ref-only", document, now)
    with vault.read_connection() as conn:
        assert referrers(conn, boss) == ["rep-ref-only"]
        assert referrers(conn, boss.upper()) == []  # ids are case-exact
    with vault.write_transaction() as conn:
        assert clear(conn, boss, now) == 1
    assert _rows_naming(vault, boss) == []  # the URI's row and the id's row went with the reference
