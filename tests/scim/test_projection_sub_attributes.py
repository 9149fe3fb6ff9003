"""``attributes`` and ``excludedAttributes`` naming sub-attributes (RFC 7644 §3.9, §3.10), over the real HTTPS server.

Each path was applied on its own before: ``attributes=emails.value,emails.type`` answered the types alone (the second
path replaced what the first had copied), ``emails,emails.value`` cut the whole attribute asked for down to its
values, and a sub-attribute no element holds answered ``"emails": [{}, {}]`` or an empty extension block.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import USER_SCHEMA, LiveServer, new_user

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
EMAILS = [
    {"type": "work", "value": "proj.work@example.test", "primary": True},
    {"type": "home", "value": "proj@example.test"},
]


@pytest.fixture(scope="module")
def user_id(live: LiveServer) -> str:
    body = new_user("projection-subs", emails=EMAILS, name={"givenName": "Given", "familyName": "Family"})
    body.update({"schemas": [USER_SCHEMA, ENTERPRISE], ENTERPRISE: {"department": "Dept", "employeeNumber": "42"}})
    with live.client() as http:
        created = http.post("/Users", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _read(http: httpx.Client, user_id: str, **params: str) -> dict[str, Any]:
    answer = http.get(f"/Users/{user_id}", params=params)
    assert answer.status_code == 200, answer.text
    listed = http.get("/Users", params={**params, "filter": f'id eq "{user_id}"'})
    assert listed.status_code == 200, listed.text
    assert listed.json()["Resources"] == [answer.json()], "a list answers the resource as a read does"
    return {key: value for key, value in answer.json().items() if key not in ("schemas", "id")}


def test_two_sub_attributes_of_a_multi_valued_attribute_are_both_answered(client: httpx.Client, user_id: str) -> None:
    shown = _read(client, user_id, attributes="emails.value,EMAILS.type")
    assert shown == {"emails": [{"value": e["value"], "type": e["type"]} for e in EMAILS]}


def test_an_attribute_asked_whole_is_not_narrowed_by_one_of_its_sub_attributes(
    client: httpx.Client, user_id: str
) -> None:
    for asked in ("emails,emails.value", "emails.value,emails"):
        assert _read(client, user_id, attributes=asked) == {"emails": EMAILS}, asked
    both = f"{ENTERPRISE}:department,{ENTERPRISE}"
    assert _read(client, user_id, attributes=both) == {ENTERPRISE: {"department": "Dept", "employeeNumber": "42"}}


def test_a_sub_attribute_nothing_holds_leaves_no_empty_container(client: httpx.Client, user_id: str) -> None:
    assert _read(client, user_id, attributes="emails.display") == {}
    assert _read(client, user_id, attributes="name.middleName") == {}
    assert _read(client, user_id, attributes=f"{ENTERPRISE}:costCenter") == {}


def test_excluding_every_sub_attribute_held_leaves_the_attribute_out(client: httpx.Client, user_id: str) -> None:
    shown = _read(
        client,
        user_id,
        excludedAttributes=f"emails.value,emails.type,emails.primary,name.givenName,name.familyName,"
        f"{ENTERPRISE}:department,{ENTERPRISE}:employeeNumber",
    )
    assert "emails" not in shown and "name" not in shown and ENTERPRISE not in shown
    assert shown["userName"] == "projection-subs"
