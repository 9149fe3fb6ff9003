"""A projected answer's ``schemas`` names the schemas whose attributes it holds (RFC 7643 §3), the core schema
always: ``GET /Users/{id}?attributes=groups`` listed the enterprise extension's URN beside no enterprise attribute.
Over the real server on HTTPS, for GET, a list and ``.search``."""

from __future__ import annotations

from uuid import uuid4

import httpx

from app.directory.schema import ENTERPRISE_SCHEMA
from tests.conftest import USER_SCHEMA, new_user

SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def _user(client: httpx.Client) -> str:
    name = f"schemas-{uuid4().hex[:10]}@example.test"
    body = {**new_user(name), "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA], ENTERPRISE_SCHEMA: {"department": "R&D"}}
    created = client.post("/Users", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["schemas"] == [USER_SCHEMA, ENTERPRISE_SCHEMA]  # the whole resource holds both
    return str(created.json()["id"])


def test_get_with_attributes_lists_only_the_schemas_it_holds(client: httpx.Client) -> None:
    user_id = _user(client)
    for asked in ("groups", "userName", "emails.value"):
        answer = client.get(f"/Users/{user_id}", params={"attributes": asked})
        assert answer.status_code == 200, answer.text
        assert answer.json()["schemas"] == [USER_SCHEMA], (asked, answer.json())
    department = client.get(f"/Users/{user_id}", params={"attributes": f"{ENTERPRISE_SCHEMA}:department"}).json()
    assert department["schemas"] == [USER_SCHEMA, ENTERPRISE_SCHEMA] and department[ENTERPRISE_SCHEMA]
    excluded = client.get(f"/Users/{user_id}", params={"excludedAttributes": ENTERPRISE_SCHEMA}).json()
    assert excluded["schemas"] == [USER_SCHEMA] and ENTERPRISE_SCHEMA not in excluded


def test_a_list_and_a_search_with_attributes_list_only_the_schemas_each_holds(client: httpx.Client) -> None:
    user_id = _user(client)
    where = f'id eq "{user_id}"'
    listed = client.get("/Users", params={"filter": where, "attributes": "userName"})
    assert listed.status_code == 200, listed.text
    assert [r["schemas"] for r in listed.json()["Resources"]] == [[USER_SCHEMA]]
    body = {"schemas": [SEARCH], "filter": where, "attributes": ["groups"]}
    searched = client.post("/Users/.search", json=body)
    assert searched.status_code == 200, searched.text
    assert [r["schemas"] for r in searched.json()["Resources"]] == [[USER_SCHEMA]]
    body = {"schemas": [SEARCH], "filter": where, "attributes": [f"{ENTERPRISE_SCHEMA}:department"]}
    both = client.post("/Users/.search", json=body).json()["Resources"]
    assert [r["schemas"] for r in both] == [[USER_SCHEMA, ENTERPRISE_SCHEMA]]
