"""Error details never quote what the client wrote about a person, over the real HTTPS server.

scim2-models words its PATCH errors with the path as sent ("'emails[value eq "…"].nope' is not an attribute of
the schema") and email-validator quotes the part of an address it refused; both reached the 400's ``detail`` as
they were. A value filter holds the person's e-mail, id or name, so each case below asks for a refusal with
the right ``scimType`` whose detail still names the attribute but not the literal.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import PATCH_SCHEMA, USER_SCHEMA, LiveServer, new_user, patch_body

ADDRESS = "kept.private@example.com"  # the seeded user's e-mail: a filter naming it matches an element
LITERAL = "kept.private"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


@pytest.fixture(scope="module")
def user_id(live: LiveServer) -> str:
    with live.client() as http:
        created = http.post("/Users", json=new_user("echo-seed", emails=[{"type": "work", "value": ADDRESS}]))
    assert created.status_code == 201, created.status_code
    return str(created.json()["id"])


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with live.client() as client:
        yield client


def _refused(response: httpx.Response, scim_type: str) -> str:
    assert response.status_code == 400, response.status_code
    body = response.json()
    assert body["scimType"] == scim_type
    return str(body["detail"])


PATCHES = [
    # (operation, scimType, what the detail must still name)
    ({"op": "replace", "path": f'emails[value eq "{ADDRESS}"].nope', "value": "x"}, "invalidPath", "nope"),
    ({"op": "remove", "path": f'groups[value eq "{ADDRESS}"]'}, "mutability", "groups"),
    ({"op": "replace", "value": {f'emails[value eq "{ADDRESS}"].value': "x@example.com"}}, "invalidValue", "emails"),
    ({"op": "add", "path": f'members[value eq "{ADDRESS}"]', "value": "x"}, "invalidPath", "members"),
    ({"op": "remove", "path": "groups[value eq 4711]"}, "mutability", "groups"),
]


@pytest.mark.parametrize(("operation", "scim_type", "named"), PATCHES)
def test_a_patch_path_error_names_the_attribute_without_the_filter_literal(
    http: httpx.Client, user_id: str, operation: dict[str, Any], scim_type: str, named: str
) -> None:
    before = http.get(f"/Users/{user_id}").json()["meta"]["version"]
    detail = _refused(http.patch(f"/Users/{user_id}", json=patch_body(operation)), scim_type)
    assert LITERAL not in detail and "4711" not in detail
    assert named in detail
    assert http.get(f"/Users/{user_id}").json()["meta"]["version"] == before  # nothing written


def test_a_bulk_patch_error_does_not_quote_the_filter_literal(http: httpx.Client, user_id: str) -> None:
    operation = {"op": "replace", "path": f'emails[value eq "{ADDRESS}"].nope', "value": "x"}
    bulk = {
        "schemas": [BULK],
        "Operations": [
            {
                "method": "PATCH",
                "path": f"/Users/{user_id}",
                "data": {"schemas": [PATCH_SCHEMA], "Operations": [operation]},
            }
        ],
    }
    answer = http.post("/Bulk", json=bulk)
    assert answer.status_code == 200
    result = answer.json()["Operations"][0]
    assert result["status"] == "400" and result["response"]["scimType"] == "invalidPath"
    assert LITERAL not in result["response"]["detail"]


def test_an_email_refusal_gives_its_reason_without_quoting_the_address(http: httpx.Client) -> None:
    # email-validator: "... not valid IDNA (Codepoint U+1F4A9 at position 1 of '💩' not allowed)": the label it
    # quotes is the decoded domain of the address, which can be a family's or a person's own domain.
    body = new_user("echo-idna", emails=[{"type": "work", "value": "someone@xn--ls8h.example"}])
    detail = _refused(http.post("/Users", json=body), "invalidValue")
    assert "\U0001f4a9" not in detail and "xn--ls8h" not in detail
    assert detail.startswith("'emails.value': value is not a valid email address")


ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
KEY = "jane.roe@example.com"  # a mapping mistake can send a person's address where an attribute name belongs

# (a body with an attribute name that is a value, what the detail names instead)
UNKNOWN_NAMES = [
    ({KEY: "x"}, "'…'"),
    ({"name": {"givenName": "G", KEY: "x"}}, "'name.…'"),
    ({"emails": [{"value": "w@example.com", "type": "work", KEY: "x"}]}, "'emails.…'"),
    ({"schemas": [USER_SCHEMA, ENTERPRISE], ENTERPRISE: {KEY: "x"}}, f"'{ENTERPRISE}:…'"),
]


@pytest.mark.parametrize(("extra", "named"), UNKNOWN_NAMES)
def test_an_unknown_attribute_name_that_is_not_scim_syntax_is_not_quoted_back(
    http: httpx.Client, extra: dict[str, Any], named: str
) -> None:
    """It was quoted as sent: 'jane.roe@example.com': Extra inputs are not permitted."""
    body = {**new_user("echo-unknown-name"), **extra}
    detail = _refused(http.post("/Users", json=body), "invalidValue")
    assert "jane.roe" not in detail
    assert detail == f"{named} is not an attribute of the schema; nothing was stored."
    assert http.get("/Users", params={"filter": 'userName eq "echo-unknown-name"'}).json()["totalResults"] == 0


def test_an_unknown_name_in_a_patch_value_is_not_quoted_back(http: httpx.Client, user_id: str) -> None:
    for value in ({KEY: "x"}, {"name": {KEY: "x"}}):
        detail = _refused(
            http.patch(f"/Users/{user_id}", json=patch_body({"op": "add", "value": value})), "invalidValue"
        )
        assert "jane.roe" not in detail, detail


def test_an_unknown_name_in_scim_syntax_is_still_named(http: httpx.Client) -> None:
    detail = _refused(http.post("/Users", json={**new_user("echo-syntax-name"), "costCentre": "x"}), "invalidValue")
    assert detail == "'costCentre' is not an attribute of the schema; nothing was stored."


def test_a_patch_value_of_the_wrong_type_names_the_attribute_as_scim_does(http: httpx.Client, user_id: str) -> None:
    """A PATCH's error named the library's field ('display_name'), not the attribute the client wrote."""
    operation = {"op": "replace", "path": "displayName", "value": {"nested": "x"}}
    detail = _refused(http.patch(f"/Users/{user_id}", json=patch_body(operation)), "invalidValue")
    assert detail.startswith("'displayName': "), detail
