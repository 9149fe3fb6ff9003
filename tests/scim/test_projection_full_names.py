"""``attributes`` naming memberships by their full name (``urn:…:Group:members``, RFC 7644 §3.10): the answer holds
them, on a read and on a write, as it does for the short name."""

from __future__ import annotations

import json

from app.directory.projection import Projection
from app.directory.query import QueryParams
from app.scim.service import ScimService
from tests.conftest import GROUP_SCHEMA, new_user, patch_body

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def _group_of_one(service: ScimService, prefix: str) -> tuple[str, str]:
    user_id = service.create("User", new_user(f"{prefix}@example.test")).body["id"]
    body = {"schemas": [GROUP_SCHEMA], "displayName": prefix, "members": [{"value": user_id}]}
    return user_id, service.create("Group", body).body["id"]


def test_members_asked_by_full_name_are_in_a_read(service: ScimService) -> None:
    """It failed before: the members were not read, and the answer left them out as if the group had none."""
    user_id, group_id = _group_of_one(service, "full-read")
    for asked in (f"{GROUP_SCHEMA}:members", f"{GROUP_SCHEMA}:members.value"):
        body = json.loads(service.get_json("Group", group_id, asked, None).body)
        assert [member["value"] for member in body["members"]] == [user_id]
    groups = json.loads(service.get_json("User", user_id, f"{USER_SCHEMA}:groups", None).body)["groups"]
    assert [group["value"] for group in groups] == [group_id]


def test_members_asked_by_full_name_are_in_a_patch_answer(service: ScimService) -> None:
    user_id, group_id = _group_of_one(service, "full-patch")
    rename = patch_body({"op": "replace", "path": "displayName", "value": "Renamed"})
    answer = service.patch("Group", group_id, rename, projection=Projection.of(f"{GROUP_SCHEMA}:members", None))
    assert [member["value"] for member in answer.body["members"]] == [user_id]
    assert "displayName" not in answer.body


def test_members_excluded_by_full_name_are_left_out(service: ScimService) -> None:
    _, group_id = _group_of_one(service, "full-exclude")
    body = json.loads(service.get_json("Group", group_id, None, f"{GROUP_SCHEMA}:members").body)
    assert "members" not in body and body["displayName"] == "full-exclude"


def test_members_asked_by_full_name_are_in_a_list(service: ScimService) -> None:
    user_id, group_id = _group_of_one(service, "full-list")
    query = {"filter": f'id eq "{group_id}"', "attributes": f"{GROUP_SCHEMA}:members"}
    page = json.loads(service.search_listing(("Group",), QueryParams.from_query_string(query)).content)
    assert [member["value"] for member in page["Resources"][0]["members"]] == [user_id]
