"""A manager's ``$ref`` points only at a User that exists here (app/directory/manager_ref.py).

Real server over HTTPS on a real SQLCipher vault. OneLogin's enterprise template fills ``manager.value`` with its
own manager id, and any IdP may name a manager it never provisioned here: the answer said ``$ref`` was
``…/Users/<that id>``, a URL that answers 404.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import ENTERPRISE, PATCH_SCHEMA, USER_SCHEMA, LiveServer

JSON = {"Content-Type": "application/scim+json"}


def _manager(body: dict[str, Any]) -> dict[str, Any]:
    return body[ENTERPRISE]["manager"]  # type: ignore[no-any-return]


def _create(client: httpx.Client, user_name: str, **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/Users", json={"schemas": [USER_SCHEMA, ENTERPRISE], "userName": user_name, **extra}, headers=JSON
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_manager_unknown_here_has_no_reference(live: LiveServer) -> None:
    with live.client() as client:
        manager = _create(client, "mref-0001@example.test")
        report = _create(client, "mref-0002@example.test", **{ENTERPRISE: {"manager": {"value": "onelogin-0042"}}})
        assert _manager(report) == {"value": "onelogin-0042"}
        assert _manager(client.get(f"/Users/{report['id']}").json()) == {"value": "onelogin-0042"}

        operation = {"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": manager["id"]}
        patched = client.patch(
            f"/Users/{report['id']}", json={"schemas": [PATCH_SCHEMA], "Operations": [operation]}, headers=JSON
        )
        assert patched.status_code == 200, patched.text
        reference = _manager(patched.json())["$ref"]
        assert reference == f"{live.server.base_url}/Users/{manager['id']}"
        assert client.get(reference).status_code == 200  # the reference given leads to the manager

        put = client.put(
            f"/Users/{report['id']}",
            json={
                "schemas": [USER_SCHEMA, ENTERPRISE],
                "userName": "mref-0002@example.test",
                ENTERPRISE: {"manager": "ghost-0001"},
            },
            headers=JSON,
        )
        assert put.status_code == 200, put.text
        assert _manager(put.json()) == {"value": "ghost-0001"}
