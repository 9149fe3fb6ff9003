"""Bulk planning (app/scim/bulk.py): one bad operation fails alone, references resolve before the writer is
taken, each operation is attempted once, and the order is the one pass-by-pass resolution gave."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.scim import bulk
from app.scim.service import ScimService
from app.store.models import ScimResource
from tests.conftest import GROUP_SCHEMA, LiveServer, new_user, patch_body

BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


def _user_count(live: LiveServer, prefix: str) -> int:
    with live.server.vault.read_session() as session:
        query = select(func.count()).select_from(ScimResource).where(ScimResource.user_name.startswith(prefix))
        return session.scalar(query) or 0


def test_one_surrogate_in_fifty_fails_alone(client: httpx.Client, live: LiveServer) -> None:
    operations = [
        {"method": "POST", "path": "/Users", "bulkId": f"s{i}", "data": new_user(f"fifty-{i}@example.com")}
        for i in range(50)
    ]
    text = json.dumps({"schemas": [BULK], "Operations": operations})
    text = text.replace('"fifty-17@example.com"', '"fifty-17\\ud800@example.com"')  # as a hostile client sends it
    response = client.post("/Bulk", content=text.encode(), headers={"Content-Type": "application/scim+json"})
    assert response.status_code == 200, response.text
    results = {op["bulkId"]: op for op in response.json()["Operations"]}
    assert results["s17"]["status"] == "400"
    assert results["s17"]["response"]["scimType"] == "invalidValue"
    assert all(results[f"s{i}"]["status"] == "201" for i in range(50) if i != 17)
    assert _user_count(live, "fifty-") == 49


@pytest.mark.parametrize(
    ("broken", "status", "scim_type"),
    [
        ({"method": "POST", "path": "/Users", "bulkId": "b\ud800", "data": new_user("x@example.com")}, "400", None),
        ({"method": "PATCH", "path": "/Users/\ud800", "data": patch_body()}, "400", "invalidValue"),
        ({"method": "POST", "path": "/Users", "bulkId": ["list"], "data": new_user("y@example.com")}, "400", None),
        ({"method": 7, "path": "/Users/x"}, "400", "invalidValue"),
        ({"method": "\ud800", "path": "/Users/x"}, "400", "invalidValue"),  # not echoed back as the method
        ({"method": "GET", "path": "/Users/x"}, "400", "invalidValue"),
        ({"method": "DELETE", "path": 5}, "400", "invalidPath"),
        ({"method": "DELETE", "path": "/Users/x", "version": 3}, "400", "invalidValue"),  # not silently unguarded
        ("not an object", "400", "invalidSyntax"),
    ],
)
def test_a_malformed_operation_fails_alone(
    client: httpx.Client, live: LiveServer, broken: Any, status: str, scim_type: str | None
) -> None:
    prefix = f"alone-{abs(hash(json.dumps(broken, default=str))) % 10**8}-"
    good = [{"method": "POST", "path": "/Users", "bulkId": f"g{i}", "data": new_user(f"{prefix}{i}")} for i in range(3)]
    text = json.dumps({"schemas": [BULK], "Operations": [good[0], broken, *good[1:]]})
    response = client.post("/Bulk", content=text.encode(), headers={"Content-Type": "application/scim+json"})
    assert response.status_code == 200, response.text
    results = response.json()["Operations"]
    assert [result["status"] for result in results] == ["201", status, "201", "201"]
    assert "bulkId" not in results[1] or results[1]["bulkId"] == broken.get("bulkId")
    if scim_type:
        assert results[1]["response"]["scimType"] == scim_type
    assert "\\ud800" not in response.text
    assert _user_count(live, prefix) == 3


def _chain(prefix: str, length: int) -> list[dict[str, Any]]:
    """Operation i is a Group whose member is created by operation i + 1; the last one is a User."""
    operations: list[dict[str, Any]] = [
        {
            "method": "POST",
            "path": "/Groups",
            "bulkId": f"c{i}",
            "data": {
                "schemas": [GROUP_SCHEMA],
                "displayName": f"{prefix}{i}",
                "members": [{"value": f"bulkId:c{i + 1}"}],
            },
        }
        for i in range(length - 1)
    ]
    operations.append(
        {"method": "POST", "path": "/Users", "bulkId": f"c{length - 1}", "data": new_user(f"{prefix}end")}
    )
    return operations


def test_a_reversed_chain_is_attempted_once_per_operation(
    service: ScimService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pass-by-pass resolution attempted a reversed chain of n operations n(n+1)/2 times, inside the writer."""
    attempts = 0
    original = bulk._run_one

    def counted(*args: Any) -> Any:
        nonlocal attempts
        attempts += 1
        return original(*args)

    monkeypatch.setattr(bulk, "_run_one", counted)
    result = bulk.run_bulk(service, {"schemas": [BULK], "Operations": _chain("chain-once-", 120)})
    assert attempts == 120
    statuses = {op["bulkId"]: op["status"] for op in result["Operations"]}
    assert set(statuses.values()) == {"201"}
    ids = {op["bulkId"]: op["location"].rsplit("/", 1)[1] for op in result["Operations"]}
    first = service.get("Group", ids["c0"]).body
    assert first is not None and [m["value"] for m in first["members"]] == [ids["c1"]]


def test_order_and_failures_of_references(service: ScimService) -> None:
    operations = [
        {
            "method": "PATCH",
            "path": "/Users/bulkId:u1",
            "data": patch_body({"op": "replace", "path": "title", "value": "T"}),
        },
        {"method": "POST", "path": "/Users", "bulkId": "u1", "data": new_user("order-1@example.com")},
        {"method": "POST", "path": "/Users", "bulkId": "u1", "data": new_user("order-dup@example.com")},
        {
            "method": "POST",
            "path": "/Groups",
            "bulkId": "loop-a",
            "data": {"schemas": [GROUP_SCHEMA], "displayName": "A", "members": [{"value": "bulkId:loop-b"}]},
        },
        {
            "method": "POST",
            "path": "/Groups",
            "bulkId": "loop-b",
            "data": {"schemas": [GROUP_SCHEMA], "displayName": "B", "members": [{"value": "bulkId:loop-a"}]},
        },
        {
            "method": "POST",
            "path": "/Groups",
            "bulkId": "ghost",
            "data": {"schemas": [GROUP_SCHEMA], "displayName": "G", "members": [{"value": "bulkId:nobody"}]},
        },
        {"method": "POST", "path": "/Users", "bulkId": "bad", "data": new_user("")},
        {
            "method": "POST",
            "path": "/Groups",
            "bulkId": "after-bad",
            "data": {"schemas": [GROUP_SCHEMA], "displayName": "C", "members": [{"value": "bulkId:bad"}]},
        },
    ]
    result = bulk.run_bulk(service, {"schemas": [BULK], "Operations": operations})["Operations"]
    assert [op["status"] for op in result] == ["200", "201", "400", "409", "409", "409", "400", "409"]
    user_id = result[1]["location"].rsplit("/", 1)[1]
    assert result[0]["location"].endswith(f"/Users/{user_id}")
    assert service.get("User", user_id).body["title"] == "T"  # type: ignore[index]


def test_fail_on_errors_counts_in_run_order(service: ScimService) -> None:
    operations = [
        {"method": "POST", "path": "/Users", "bulkId": "x0", "data": new_user("")},
        {"method": "POST", "path": "/Users", "bulkId": "x1", "data": new_user("foe-1@example.com")},
    ]
    result = bulk.run_bulk(service, {"schemas": [BULK], "failOnErrors": 1, "Operations": operations})["Operations"]
    assert [op["status"] for op in result] == ["400"]


def test_bulk_changes_name_the_client_on_the_audit_trail(client: httpx.Client, live: LiveServer) -> None:
    """Bulk operations ran on the writer thread with its own context: the trail said "system", not the token."""
    from app.audit.pseudonyms import pseudonym_for
    from app.audit.trail import of_kind

    operations = [{"method": "POST", "path": "/Users", "bulkId": "who", "data": new_user("who-did-it@example.com")}]
    response = client.post("/Bulk", json={"schemas": [BULK], "Operations": operations})
    created = response.json()["Operations"][0]["location"].rsplit("/", 1)[1]
    with live.server.vault.read_connection() as conn:
        pseudonym = pseudonym_for(conn, created)
        events = [e for e in of_kind(conn, "scim.resource.created", limit=200) if e.subject == pseudonym]
    assert [e.actor for e in events] == ["token:test-idp"]


def test_put_is_validated_before_and_applied_in_order(service: ScimService) -> None:
    created = service.create("User", new_user("bulk-put@example.com")).body
    assert created is not None
    uid = created["id"]
    operations = [
        {"method": "PUT", "path": f"/Users/{uid}", "data": new_user("bulk-put@example.com", title="replaced")},
        {"method": "PUT", "path": f"/Users/{uid}", "data": new_user("bulk-put@example.com", active="maybe")},
        {"method": "PUT", "path": f"/Users/{uid}", "version": 'W/"1"', "data": new_user("bulk-put@example.com")},
        {"method": "PUT", "path": "/Users/bulkId:later", "data": new_user("bulk-put-later@example.com", title="2")},
        {"method": "POST", "path": "/Users", "bulkId": "later", "data": new_user("bulk-put-later@example.com")},
    ]
    result = bulk.run_bulk(service, {"schemas": [BULK], "Operations": operations})["Operations"]
    assert [op["status"] for op in result] == ["200", "400", "412", "200", "201"]
    assert service.get("User", uid).body["title"] == "replaced"  # type: ignore[index]
    later = result[4]["location"].rsplit("/", 1)[1]
    assert service.get("User", later).body["title"] == "2"  # type: ignore[index]
