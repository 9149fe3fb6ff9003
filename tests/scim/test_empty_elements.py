"""An element of a multi-valued attribute that holds no value is not kept (app/directory/empty_elements.py).

Real server over HTTPS on a real SQLCipher vault. Entra clears a phone number by replacing its ``.value`` with
``""`` (or removing it); OneLogin templates render an empty macro as ``{"value": "", "type": "work"}``. Before,
the first left ``{"type": "mobile"}`` that ``phoneNumbers pr`` matched, and the second was stored as an empty
number, or, for an e-mail, refused the whole user with 400.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from tests.conftest import PATCH_SCHEMA, USER_SCHEMA, LiveServer

JSON = {"Content-Type": "application/scim+json"}


def _create(client: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return client.post("/Users", json={"schemas": [USER_SCHEMA], **body}, headers=JSON)


def _found(client: httpx.Client, scim_filter: str) -> int:
    response = client.get(f"/Users?filter={quote(scim_filter)}&attributes=userName")
    assert response.status_code == 200, response.text
    return int(response.json()["totalResults"])


def test_entra_clearing_a_typed_value_leaves_no_empty_element(live: LiveServer) -> None:
    with live.client() as client:
        created = _create(
            client,
            {
                "userName": "empty-0001@example.test",
                "emails": [{"value": "empty-0001@example.test", "type": "work", "primary": True}],
                "phoneNumbers": [{"value": "+1 555 0100", "type": "mobile"}, {"value": "+1 555 0101", "type": "work"}],
            },
        )
        assert created.status_code == 201, created.text
        user_id = created.json()["id"]
        operations = [
            {"op": "Replace", "path": 'phoneNumbers[type eq "mobile"].value', "value": ""},
            {"op": "Remove", "path": 'emails[type eq "work"].value'},
        ]
        patched = client.patch(
            f"/Users/{user_id}", json={"schemas": [PATCH_SCHEMA], "Operations": operations}, headers=JSON
        )
        assert patched.status_code == 200, patched.text
        body = patched.json()
        assert body["phoneNumbers"] == [{"value": "+1 555 0101", "type": "work"}]
        assert "emails" not in body
        assert client.get(f"/Users/{user_id}").json().get("emails") is None
        name = 'userName eq "empty-0001@example.test"'
        assert _found(client, f'{name} and phoneNumbers[type eq "mobile"]') == 0
        assert _found(client, f"{name} and emails pr") == 0
        assert _found(client, f'{name} and phoneNumbers[type eq "work"]') == 1


def test_onelogin_template_with_empty_macros_creates_the_user(live: LiveServer) -> None:
    with live.client() as client:
        created = _create(
            client,
            {
                "userName": "empty-0002@example.test",
                "name": {"givenName": "Given0002", "familyName": "Family0002"},
                "emails": [
                    {"value": "empty-0002@example.test", "type": "work", "primary": True},
                    {"value": "", "type": "home"},
                ],
                "phoneNumbers": [{"value": "", "type": "work"}],
            },
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["emails"] == [{"value": "empty-0002@example.test", "type": "work", "primary": True}]
        assert "phoneNumbers" not in body
        assert _found(client, 'userName eq "empty-0002@example.test" and phoneNumbers pr') == 0
        put = client.put(
            f"/Users/{body['id']}",
            json={
                "schemas": [USER_SCHEMA],
                "userName": "empty-0002@example.test",
                "emails": [{"value": "", "type": "work", "primary": True}],
                "phoneNumbers": [{"value": "+1 555 0102", "type": "work"}, {"type": "mobile"}],
            },
            headers=JSON,
        )
        assert put.status_code == 200, put.text
        assert "emails" not in put.json()
        assert put.json()["phoneNumbers"] == [{"value": "+1 555 0102", "type": "work"}]
