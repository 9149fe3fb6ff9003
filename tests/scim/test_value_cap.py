"""The cap on values per multi-valued attribute (app/directory/input_guard.py) on every path that grows a list,
over the real server: 400 invalidValue naming the attribute, never a value, and nothing stored."""

from __future__ import annotations

from typing import Any

import httpx

from app.directory.input_guard import MAX_VALUES_PER_ATTRIBUTE
from tests.conftest import GROUP_SCHEMA, PATCH_SCHEMA, new_user, patch_body
from tests.scim.test_http import assert_scim_error

BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


def emails(first: int, count: int) -> list[dict[str, Any]]:
    return [{"value": f"capped-{index}@example.com", "type": "work"} for index in range(first, first + count)]


def assert_refused(answer: httpx.Response | dict[str, Any], name: str = "emails") -> None:
    body = answer if isinstance(answer, dict) else answer.json()
    if not isinstance(answer, dict):
        assert_scim_error(answer, 400, "invalidValue")
    assert body["status"] == "400" and body["scimType"] == "invalidValue", body
    assert f"'{name}'" in body["detail"] and "capped-" not in body["detail"], body


def stored_emails(client: httpx.Client, uid: str) -> int:
    return len(client.get(f"/Users/{uid}").json().get("emails", []))


def test_post_and_put_over_the_cap_are_refused(client: httpx.Client) -> None:
    assert_refused(client.post("/Users", json=new_user("cap-post@example.com", emails=emails(0, 101))))
    uid = client.post("/Users", json=new_user("cap-put@example.com")).json()["id"]
    assert_refused(client.put(f"/Users/{uid}", json=new_user("cap-put@example.com", emails=emails(0, 101))))
    assert stored_emails(client, uid) == 0


def test_patch_add_cannot_grow_a_list_past_the_cap_a_request_at_a_time(client: httpx.Client) -> None:
    """Before: each request was checked alone, so two adds of 60 left 120 addresses (and 1,000 single adds 1,000)."""
    half = MAX_VALUES_PER_ATTRIBUTE * 6 // 10
    uid = client.post("/Users", json=new_user("cap-patch@example.com", emails=emails(0, half))).json()["id"]
    grow = [
        patch_body({"op": "add", "path": "emails", "value": emails(half, half)}),
        patch_body({"op": "add", "value": {"emails": emails(half, half)}}),
        patch_body({"op": "Add", "value": {"EMAILS": emails(half, half)}}),
        patch_body(*({"op": "add", "path": "emails", "value": one} for one in emails(half, half))),
        patch_body({"op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:User:emails",
                    "value": emails(half, half)}),
    ]  # fmt: skip
    for body in grow:
        assert_refused(client.patch(f"/Users/{uid}", json=body))
        assert stored_emails(client, uid) == half
    bulk = {"schemas": [BULK], "Operations": [
        {"method": "PATCH", "path": f"/Users/{uid}", "data": grow[0]},
        {"method": "POST", "bulkId": "b", "path": "/Users",
         "data": new_user("cap-bulk@example.com", emails=emails(0, 101))},
    ]}  # fmt: skip
    results = client.post("/Bulk", json=bulk).json()["Operations"]
    assert [result["status"] for result in results] == ["400", "400"]
    for result in results:
        assert_refused(result["response"])
    assert stored_emails(client, uid) == half
    assert client.get("/Users", params={"filter": 'userName eq "cap-bulk@example.com"'}).json()["totalResults"] == 0


def test_patch_up_to_the_cap_and_within_it_is_served(client: httpx.Client) -> None:
    uid = client.post("/Users", json=new_user("cap-edge@example.com", emails=emails(0, 50))).json()["id"]
    added = client.patch(f"/Users/{uid}", json=patch_body({"op": "add", "path": "emails", "value": emails(50, 50)}))
    assert added.status_code == 200 and stored_emails(client, uid) == MAX_VALUES_PER_ATTRIBUTE
    replaced = client.patch(f"/Users/{uid}", json={"schemas": [PATCH_SCHEMA], "Operations": [
        {"op": "replace", "path": "emails", "value": emails(200, 100)}]})  # fmt: skip
    assert replaced.status_code == 200 and stored_emails(client, uid) == MAX_VALUES_PER_ATTRIBUTE


def test_members_named_in_full_are_not_capped(client: httpx.Client) -> None:
    """A group's members are uncapped by their full name too: a path-less add of more than the cap under
    ``urn:…:Group:members`` was refused (400) where the same add under ``members`` was served (fails on the old
    code)."""
    users = [client.post("/Users", json=new_user(f"cap-member-{n}@example.com")).json()["id"] for n in range(101)]
    group = {"schemas": [GROUP_SCHEMA], "displayName": "Cap members"}
    gid = client.post("/Groups", json=group).json()["id"]
    value = {f"{GROUP_SCHEMA}:members": [{"value": user} for user in users]}
    added = client.patch(f"/Groups/{gid}", json=patch_body({"op": "add", "value": value}))
    assert added.status_code == 200, added.text
    held = client.get(f"/Groups/{gid}").json()["members"]
    assert sorted(member["value"] for member in held) == sorted(users)
