"""Attribute names are case-insensitive (RFC 7643 §2.1), sub-attribute names of a member too: a PATCH removing
members with ``[{"Value": id}]`` was refused with 400, and ``{"VALUE": id}`` in an add or replace of members as
well. Over the real server on HTTPS, each form has the outcome of its lower-case twin."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.conftest import GROUP_SCHEMA, new_user, patch_body


def _user(client: httpx.Client, name: str) -> str:
    created = client.post("/Users", json=new_user(f"{uuid4().hex[:8]}-{name}"))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _members(client: httpx.Client, group_id: str) -> set[str]:
    found = client.get(f"/Groups/{group_id}")
    assert found.status_code == 200, found.text
    return {member["value"] for member in found.json().get("members", [])}


def _group(client: httpx.Client, name: str, members: list[str]) -> str:
    body = {"schemas": [GROUP_SCHEMA], "displayName": name, "members": [{"value": m} for m in members]}
    created = client.post("/Groups", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


@pytest.mark.parametrize("key", ["Value", "VALUE", "vAlUe"])
def test_remove_members_by_a_value_list_reads_the_sub_attribute_name_in_any_case(
    client: httpx.Client, key: str
) -> None:
    a, b = _user(client, f"case-rm-a-{key}@example.test"), _user(client, f"case-rm-b-{key}@example.test")
    group_id = _group(client, f"case-rm-{key}", [a, b])
    answer = client.patch(f"/Groups/{group_id}", json=patch_body({"op": "remove", "path": "members",
                                                                  "value": [{key: a}]}))  # fmt: skip
    assert answer.status_code in (200, 204), answer.text
    assert _members(client, group_id) == {b}


@pytest.mark.parametrize("key", ["Value", "VALUE"])
@pytest.mark.parametrize("op", ["add", "replace"])
def test_add_and_replace_members_read_the_sub_attribute_name_in_any_case(
    client: httpx.Client, key: str, op: str
) -> None:
    a, b = _user(client, f"case-{op}-a-{key}@example.test"), _user(client, f"case-{op}-b-{key}@example.test")
    group_id = _group(client, f"case-{op}-{key}", [a])
    member: dict[str, Any] = {key: b, "Display": "B"}
    answer = client.patch(f"/Groups/{group_id}", json=patch_body({"op": op, "path": "members", "value": [member]}))
    assert answer.status_code in (200, 204), answer.text
    assert _members(client, group_id) == ({a, b} if op == "add" else {b})


def test_a_path_less_replace_of_members_reads_value_in_any_case(client: httpx.Client) -> None:
    a, b = _user(client, "case-pl-a@example.test"), _user(client, "case-pl-b@example.test")
    group_id = _group(client, "case-pl", [a])
    body = patch_body({"op": "replace", "value": {"members": [{"Value": b}]}})
    answer = client.patch(f"/Groups/{group_id}", json=body)
    assert answer.status_code in (200, 204), answer.text
    assert _members(client, group_id) == {b}


def test_a_group_created_with_capitalised_member_names_holds_them(client: httpx.Client) -> None:
    a = _user(client, "case-post-a@example.test")
    body = {"schemas": [GROUP_SCHEMA], "displayName": "case-post", "members": [{"Value": a, "Display": "A"}]}
    created = client.post("/Groups", json=body)
    assert created.status_code == 201, created.text
    assert _members(client, str(created.json()["id"])) == {a}


def test_a_member_without_any_value_is_still_refused(client: httpx.Client) -> None:
    a = _user(client, "case-none-a@example.test")
    group_id = _group(client, "case-none", [a])
    answer = client.patch(f"/Groups/{group_id}", json=patch_body({"op": "add", "path": "members",
                                                                  "value": [{"Display": "nobody"}]}))  # fmt: skip
    assert answer.status_code == 400, answer.text
    assert _members(client, group_id) == {a}


def test_a_group_put_with_members_named_in_capitals_holds_them(client: httpx.Client) -> None:
    """``"Members"`` is ``members``: read under any case, not dropped as if no member had been sent."""
    a, b = _user(client, "case-put-a@example.test"), _user(client, "case-put-b@example.test")
    group_id = _group(client, "case-put", [a])
    body = {"schemas": [GROUP_SCHEMA], "displayName": "case-put", "Members": [{"VALUE": b}]}
    replaced = client.put(f"/Groups/{group_id}", json=body)
    assert replaced.status_code == 200, replaced.text
    assert _members(client, group_id) == {b}


def test_the_by_id_path_reads_capitalised_member_names_too() -> None:
    """The membership edit by id (app/scim/members.py) took ``{"Value": id}`` for another shape and sent it the
    general way, which reads the whole group: a removal from a group of 10,000 then held the writer for seconds."""
    from app.scim.members import MembershipEdit, membership_edit

    body = patch_body({"op": "remove", "path": "members", "value": [{"Value": "a"}, {"VALUE": "b", "Display": "B"}]})
    assert membership_edit(body) == MembershipEdit(False, (), frozenset({"a", "b"}))
    twice = patch_body({"op": "remove", "path": "members", "value": [{"Value": "a", "value": "b"}]})
    assert membership_edit(twice) is None  # one name twice: left to the general path to judge
