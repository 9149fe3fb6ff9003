"""Booleans over the real server (app/directory/booleans.py): true, false and Entra's "True"/"False" are read;
the loose forms pydantic's lax mode took (1, "yes", "off", …) are 400 invalidValue, and nothing is stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ENTERPRISE, USER_SCHEMA, new_user, patch_body
from tests.scim.test_http import assert_scim_error

LOOSE = [1, 0, 1.0, "yes", "no", "on", "off", "1", "0", "t", "f", "y", "n"]


def assert_refused(answer: httpx.Response, name: str) -> None:
    assert_scim_error(answer, 400, "invalidValue")
    assert f"'{name}'" in answer.json()["detail"]


@pytest.mark.parametrize("loose", LOOSE, ids=repr)
def test_a_loose_boolean_is_refused_on_post_put_and_patch(client: httpx.Client, loose: Any) -> None:
    """Before: "active": "no" created a disabled account and "active": 1 enabled one (201 and 200)."""
    name = f"loose-{LOOSE.index(loose)}@example.com"
    assert_refused(client.post("/Users", json=new_user(name, active=loose)), "active")
    assert_refused(client.post("/Users", json=new_user(name, emails=[{"value": name, "primary": loose}])),
                   "emails.primary")  # fmt: skip
    assert client.get("/Users", params={"filter": f'userName eq "{name}"'}).json()["totalResults"] == 0
    created = client.post("/Users", json=new_user(name, active=True, emails=[{"value": name, "type": "work"}]))
    uid, version = created.json()["id"], created.headers["ETag"]
    assert_refused(client.put(f"/Users/{uid}", json=new_user(name, active=loose)), "active")
    for operation in (
        {"op": "replace", "path": "active", "value": loose},
        {"op": "Replace", "path": "ACTIVE", "value": loose},
        {"op": "replace", "value": {"active": loose}},
        {"op": "add", "path": 'emails[type eq "work"].primary', "value": loose},
        {"op": "add", "path": "emails", "value": [{"value": "other@example.com", "primary": loose}]},
        {"op": "replace", "value": {"emails": [{"value": name, "primary": loose}]}},
    ):
        answer = client.patch(f"/Users/{uid}", json=patch_body(operation))
        assert_scim_error(answer, 400, "invalidValue")
    assert client.get(f"/Users/{uid}").headers["ETag"] == version  # nothing was written
    client.delete(f"/Users/{uid}")


def test_true_false_and_entra_strings_are_read(client: httpx.Client) -> None:
    body = {"schemas": [USER_SCHEMA, ENTERPRISE], "userName": "strict-bool@example.com", "active": "True",
            "emails": [{"value": "strict-bool@example.com", "type": "work", "primary": "true"}]}  # fmt: skip
    created = client.post("/Users", json=body)
    assert created.status_code == 201, created.text
    uid = created.json()["id"]
    assert created.json()["active"] is True and created.json()["emails"][0]["primary"] is True
    for value, expected in (("False", False), ("True", True), (False, False), ("TRUE", True)):
        answer = client.patch(f"/Users/{uid}", json=patch_body({"op": "Replace", "path": "active", "value": value}))
        assert answer.status_code == 200 and answer.json()["active"] is expected, answer.text
    answer = client.patch(f"/Users/{uid}", json=patch_body({"op": "Replace", "value": {"active": "False"}}))
    assert answer.status_code == 200 and answer.json()["active"] is False
