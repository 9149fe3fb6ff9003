"""ETags over the real HTTPS server: a version changes whenever the representation does, and only then.

RFC 7644 §3.14: a client holding an ETag is told 304 Not Modified, or has its If-Match honoured, only for the
representation that ETag was given with. A User shows its groups (id and displayName) and a Group its members (id
and displayName, else userName): rows of other resources, whose changes must give it a new version too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.audit.tables import AuditEvent
from app.audit.trail import of_kind
from tests.conftest import GROUP_SCHEMA, LiveServer, new_user, patch_body


def _user(client: httpx.Client, name: str, **extra: object) -> dict[str, Any]:
    created = client.post("/Users", json=new_user(f"{name}@example.test", **extra))
    assert created.status_code == 201, created.text
    return dict(created.json())


def _group(client: httpx.Client, name: str, members: Sequence[str] = ()) -> dict[str, Any]:
    body = {"schemas": [GROUP_SCHEMA], "displayName": name, "members": [{"value": m} for m in members]}
    created = client.post("/Groups", json=body)
    assert created.status_code == 201, created.text
    return dict(created.json())


def _assert_changed(client: httpx.Client, path: str, tag: str) -> dict[str, Any]:
    """The resource is no longer at ``tag``: a conditional GET sends the new body, and If-Match on it fails."""
    again = client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 200, "304 Not Modified for a representation that changed"
    assert again.headers["ETag"] != tag and again.json()["meta"]["version"] == again.headers["ETag"]
    stale = client.patch(path, headers={"If-Match": tag}, json=patch_body({"op": "replace", "path": "externalId",
                                                                           "value": "stale"}))  # fmt: skip
    assert stale.status_code == 412
    return dict(again.json())


def _add_by_id(client: httpx.Client, group: str, user: str) -> None:
    """Entra ID's add (app/scim/members.py: the edit by id)."""
    body = patch_body({"op": "add", "path": "members", "value": [{"value": user}]})
    assert client.patch(f"/Groups/{group}", json=body).status_code == 200


def _remove_by_filter(client: httpx.Client, group: str, user: str) -> None:
    """Okta's removal (the edit by id)."""
    body = patch_body({"op": "remove", "path": f'members[value eq "{user}"]'})
    assert client.patch(f"/Groups/{group}", json=body).status_code == 200


def _add_general(client: httpx.Client, group: str, user: str) -> None:
    """A member object with ``type``: the general PATCH path (through the model)."""
    body = patch_body({"op": "add", "path": "members", "value": [{"value": user, "type": "User"}]})
    assert client.patch(f"/Groups/{group}", json=body).status_code == 200


def _put_with(client: httpx.Client, group: str, user: str) -> None:
    body = {"schemas": [GROUP_SCHEMA], "displayName": "Put group", "members": [{"value": user}]}
    assert client.put(f"/Groups/{group}", json=body).status_code == 200


@pytest.mark.parametrize("join", [_add_by_id, _add_general, _put_with], ids=["edit", "general", "put"])
def test_joining_and_leaving_a_group_gives_the_user_a_new_version(
    client: httpx.Client, join: Callable[[httpx.Client, str, str], None]
) -> None:
    """Before: the user's ``groups`` gained or lost the group, its version stayed: 304 for the changed body."""
    user = _user(client, f"joiner-{join.__name__}")
    group = _group(client, "Put group")
    path = f"/Users/{user['id']}"

    join(client, group["id"], user["id"])
    joined = _assert_changed(client, path, user["meta"]["version"])
    assert [g["value"] for g in joined["groups"]] == [group["id"]]

    _remove_by_filter(client, group["id"], user["id"])
    left = _assert_changed(client, path, joined["meta"]["version"])
    assert "groups" not in left


def test_a_group_created_with_the_user_or_deleted_gives_it_a_new_version(client: httpx.Client) -> None:
    user = _user(client, "member-of-new")
    group = _group(client, "Created with members", [user["id"]])
    path = f"/Users/{user['id']}"
    joined = _assert_changed(client, path, user["meta"]["version"])
    assert [g["value"] for g in joined["groups"]] == [group["id"]]

    assert client.delete(f"/Groups/{group['id']}").status_code == 204
    assert "groups" not in _assert_changed(client, path, joined["meta"]["version"])


def test_a_renamed_group_gives_its_users_a_new_version(client: httpx.Client) -> None:
    """``groups[].display`` is the group's displayName."""
    user = _user(client, "in-renamed")
    group = _group(client, "Before rename", [user["id"]])
    tag = client.get(f"/Users/{user['id']}").headers["ETag"]
    rename = patch_body({"op": "replace", "path": "displayName", "value": "After rename"})
    assert client.patch(f"/Groups/{group['id']}", json=rename).status_code == 200

    again = _assert_changed(client, f"/Users/{user['id']}", tag)
    assert [g["display"] for g in again["groups"]] == ["After rename"]


@pytest.mark.parametrize(
    ("start", "change", "shown"),
    [
        ({"displayName": "Ada"}, {"op": "replace", "path": "displayName", "value": "Ada L"}, "Ada L"),
        ({}, {"op": "replace", "path": "userName", "value": "renamed-member@example.test"},
         "renamed-member@example.test"),
    ],
    ids=["displayName", "userName"],
)  # fmt: skip
def test_a_renamed_member_gives_its_groups_a_new_version(
    client: httpx.Client, start: dict[str, Any], change: dict[str, Any], shown: str
) -> None:
    """``members[].display`` is the member's displayName, else its userName."""
    user = _user(client, f"member-renamed-{change['path']}", **start)
    group = _group(client, f"Holds a renamed {change['path']}", [user["id"]])
    tag = client.get(f"/Groups/{group['id']}").headers["ETag"]
    assert client.patch(f"/Users/{user['id']}", json=patch_body(change)).status_code == 200

    again = _assert_changed(client, f"/Groups/{group['id']}", tag)
    assert [m["display"] for m in again["members"]] == [shown]


def test_a_change_elsewhere_leaves_the_version_alone(client: httpx.Client) -> None:
    """Only what a resource shows gives it a new version: a member's title is not in its group."""
    user = _user(client, "titled", displayName="Titled")
    group = _group(client, "Unaffected", [user["id"]])
    tag = client.get(f"/Groups/{group['id']}").headers["ETag"]
    title = patch_body({"op": "replace", "path": "title", "value": "Engineer"})
    assert client.patch(f"/Users/{user['id']}", json=title).status_code == 200
    assert client.get(f"/Groups/{group['id']}", headers={"If-None-Match": tag}).status_code == 304


def _changes_recorded(live: LiveServer) -> int:
    """How many resource changes the audit trail holds (created, replaced, patched, deleted)."""
    with live.server.vault.read_connection() as conn:
        return len(conn.execute(select(AuditEvent.seq).where(AuditEvent.kind.like("scim.resource.%"))).all())


def test_an_identical_put_keeps_the_version_and_records_no_change(client: httpx.Client, live: LiveServer) -> None:
    """Before: a PUT of the stored body gave a new version and a ``scim.resource.replaced`` entry (and a push to
    every target) for a resource that had not changed. As a PATCH that changes nothing always did, it now answers
    the resource as it is."""
    email = [{"value": "same@example.test", "type": "work"}]
    user = _user(client, "same-put", displayName="Same", emails=email)
    group = _group(client, "Same members", [user["id"]])
    same_user = new_user("same-put@example.test", displayName="Same", emails=email)
    same_group = {"schemas": [GROUP_SCHEMA], "displayName": "Same members", "members": [{"value": user["id"]}]}
    for path, body in ((f"/Users/{user['id']}", same_user), (f"/Groups/{group['id']}", same_group)):
        before = client.get(path)
        recorded = _changes_recorded(live)
        again = client.put(path, json=body)
        assert again.status_code == 200
        assert again.headers["ETag"] == before.headers["ETag"]
        assert again.json()["meta"] == before.json()["meta"]
        assert _changes_recorded(live) == recorded
        assert client.get(path, headers={"If-None-Match": before.headers["ETag"]}).status_code == 304
    assert live.server.recorder is not None
    live.server.recorder.flush()
    with live.server.vault.read_connection() as conn:  # each request is still on the trail, as every request is
        requests = [e.details for e in of_kind(conn, "scim.request", limit=6)]
    assert [(d["method"], d["status"]) for d in reversed(requests)] == [("GET", 200), ("PUT", 200), ("GET", 304)] * 2


def test_a_put_that_changes_only_members_is_one_new_version(client: httpx.Client, live: LiveServer) -> None:
    user = _user(client, "put-members-only")
    group = _group(client, "Members only")
    recorded = _changes_recorded(live)
    body = {"schemas": [GROUP_SCHEMA], "displayName": "Members only", "members": [{"value": user["id"]}]}
    again = client.put(f"/Groups/{group['id']}", json=body)
    assert again.status_code == 200 and again.headers["ETag"] != group["meta"]["version"]
    assert [m["value"] for m in again.json()["members"]] == [user["id"]]
    assert _changes_recorded(live) == recorded + 1
