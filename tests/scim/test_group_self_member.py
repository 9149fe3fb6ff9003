"""A group cannot be its own member, over the real HTTPS server.

Before, a PUT, an Entra-style PATCH add, Okta's path-less ``{"members": […]}`` and a general PATCH replace naming the
group's own id were stored: the group listed itself among its members, and so did every target it was pushed to.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import GROUP_SCHEMA, new_user, patch_body


def _group(client: httpx.Client, name: str) -> tuple[str, str]:
    user = client.post("/Users", json=new_user(f"{name}-member"))
    assert user.status_code == 201, user.text
    user_id = str(user.json()["id"])
    group = client.post(
        "/Groups", json={"schemas": [GROUP_SCHEMA], "displayName": name, "members": [{"value": user_id}]}
    )
    assert group.status_code == 201, group.text
    return user_id, str(group.json()["id"])


def _writes(group_id: str, user_id: str, name: str) -> list[tuple[str, dict[str, Any]]]:
    own, other = {"value": group_id}, {"value": user_id}
    return [
        ("PUT", {"schemas": [GROUP_SCHEMA], "displayName": name, "members": [other, own]}),
        ("PATCH", patch_body({"op": "Add", "path": "members", "value": [own]})),
        ("PATCH", patch_body({"op": "add", "value": {"members": [own]}})),
        ("PATCH", patch_body({"op": "replace", "path": "members", "value": [other, own]})),
        ("PATCH", patch_body({"op": "replace", "value": {"displayName": "renamed", "members": [own]}})),
    ]


@pytest.mark.parametrize("case", range(5))
def test_a_write_naming_the_group_as_its_own_member_is_refused(client: httpx.Client, case: int) -> None:
    name = f"self-member-{case}"
    user_id, group_id = _group(client, name)
    before = client.get(f"/Groups/{group_id}").json()
    method, body = _writes(group_id, user_id, name)[case]
    answer = client.request(method, f"/Groups/{group_id}", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["scimType"] == "invalidValue"
    assert "own member" in answer.json()["detail"]
    after = client.get(f"/Groups/{group_id}").json()
    assert after == before  # nothing changed: same members, same version
