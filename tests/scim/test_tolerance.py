"""Shapes real IdPs send beyond the RFC, read the way the IdP means them (docs/idp-tolerances.md)."""

from __future__ import annotations

from typing import Any

import pytest

from app.directory.errors import ScimError
from app.scim.service import ScimService
from tests.conftest import ENTERPRISE, GROUP_SCHEMA, new_user, patch_body


@pytest.fixture
def user(service: ScimService, request: pytest.FixtureRequest) -> dict[str, Any]:
    name = f"tol-{request.node.name[:40]}@example.com".replace("[", "-").replace("]", "")
    body = new_user(
        name,
        name={"givenName": "Tol", "familyName": "Erant"},
        emails=[{"value": name, "type": "work", "primary": True}],
        title="Engineer",
        active=True,
    )
    return service.create("User", body).body  # type: ignore[return-value]


def patch(service: ScimService, resource_id: str, *operations: dict[str, Any], kind: str = "User") -> dict[str, Any]:
    return service.patch(kind, resource_id, patch_body(*operations)).body  # type: ignore[return-value]


def test_capitalised_ops_and_string_booleans(service: ScimService, user: dict[str, Any]) -> None:
    result = patch(service, user["id"], {"op": "Replace", "path": "active", "value": "False"})
    assert result["active"] is False
    result = patch(service, user["id"], {"op": "Replace", "value": {"active": "True"}})
    assert result["active"] is True
    assert result["title"] == "Engineer"  # a path-less replace of one attribute touches nothing else


def test_path_less_dotted_keys(service: ScimService, user: dict[str, Any]) -> None:
    result = patch(
        service,
        user["id"],
        {"op": "replace", "value": {"name.familyName": "Changed", f"{ENTERPRISE}:department": "Legal"}},
    )
    assert result["name"] == {"givenName": "Tol", "familyName": "Changed"}
    assert result[ENTERPRISE]["department"] == "Legal"


def test_id_inside_a_replace_value_is_ignored(service: ScimService, user: dict[str, Any]) -> None:
    result = patch(service, user["id"], {"op": "replace", "value": {"id": user["id"], "title": "Lead"}})
    assert result["id"] == user["id"] and result["title"] == "Lead"


def test_manager_as_bare_string_and_cleared_with_empty_value(service: ScimService, user: dict[str, Any]) -> None:
    path = f"{ENTERPRISE}:manager"
    result = patch(service, user["id"], {"op": "Add", "path": path, "value": "mgr-0001"})
    assert result[ENTERPRISE]["manager"]["value"] == "mgr-0001"
    result = patch(service, user["id"], {"op": "Replace", "path": path, "value": ""})
    assert "manager" not in result.get(ENTERPRISE, {})


def test_manager_without_ref_on_create(service: ScimService) -> None:
    body = new_user("tol-manager@example.com")
    body["schemas"] = [body["schemas"][0], ENTERPRISE]  # type: ignore[index]
    body[ENTERPRISE] = {"manager": {"value": "mgr-0002", "$ref": None}, "employeeNumber": "7"}
    created = service.create("User", body).body
    assert created is not None
    assert created[ENTERPRISE]["manager"]["value"] == "mgr-0002"
    assert created[ENTERPRISE]["employeeNumber"] == "7"


def test_value_path_to_missing_element_adds_it(service: ScimService, user: dict[str, Any]) -> None:
    result = patch(
        service,
        user["id"],
        {"op": "replace", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+33 1 23 45 67 89"},
        {"op": "add", "path": 'addresses[type eq "work"].postalCode', "value": "75001"},
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "renamed@example.com"},
    )
    assert result["phoneNumbers"] == [{"type": "mobile", "value": "+33 1 23 45 67 89"}]
    assert result["addresses"] == [{"type": "work", "postalCode": "75001"}]
    assert result["emails"] == [{"value": "renamed@example.com", "type": "work", "primary": True}]


@pytest.mark.parametrize(
    ("path", "scim_type"),
    [
        ('emails[type eq "home"].nonexistent', "invalidPath"),
        ('addresses[type eq "home"].zip', "invalidPath"),
        ('emails[nosuch eq "home"].value', "invalidFilter"),  # the path's filter compares no sub-attribute
    ],
    ids=["sub", "address", "selector"],  # the user fixture names its user by the test's first 40 characters
)
def test_unknown_value_path_sub(service: ScimService, user: dict[str, Any], path: str, scim_type: str) -> None:
    """Row 14 creates the element a value path names only when both of its names are sub-attributes: it built
    ``{"type": "home", "nonexistent": …}`` and the model's refusal of that element came back as invalidValue
    ("'nonexistent': the value is not valid for this attribute"), where RFC 7644 §3.12 says invalidPath (or
    invalidFilter, for the filter's own attribute)."""
    version = service.get("User", user["id"]).body["meta"]["version"]  # type: ignore[index]
    with pytest.raises(ScimError) as raised:
        patch(service, user["id"], {"op": "replace", "path": path, "value": "x@example.com"})
    assert (raised.value.status, raised.value.scim_type) == (400, scim_type)
    assert service.get("User", user["id"]).body["meta"]["version"] == version  # type: ignore[index]


def test_member_removal_as_value_list(service: ScimService) -> None:
    ids = [service.create("User", new_user(f"tol-member-{i}@example.com")).body["id"] for i in range(3)]  # type: ignore[index]
    group = service.create("Group", {"schemas": [GROUP_SCHEMA], "displayName": "Tolerant group"}).body
    assert group is not None
    gid = group["id"]
    patch(service, gid, {"op": "Add", "path": "members", "value": [{"value": i} for i in ids]}, kind="Group")
    result = patch(service, gid, {"op": "Remove", "path": "members", "value": [{"value": ids[0]}]}, kind="Group")
    assert sorted(m["value"] for m in result["members"]) == sorted(ids[1:])
    result = patch(service, gid, {"op": "remove", "path": f'members[value eq "{ids[1]}"]'}, kind="Group")
    assert [m["value"] for m in result["members"]] == [ids[2]]


def test_lowercase_operations_key(service: ScimService, user: dict[str, Any]) -> None:
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "operations": [{"op": "replace", "path": "title", "value": "Lowercase"}],
    }
    assert service.patch("User", user["id"], body).body["title"] == "Lowercase"  # type: ignore[index]


def test_remove_without_path_is_still_an_error(service: ScimService, user: dict[str, Any]) -> None:
    """Tolerance never widens a deletion: a remove with no path is refused, the user is untouched."""
    with pytest.raises(ScimError) as raised:
        patch(service, user["id"], {"op": "remove"})
    assert raised.value.status == 400
    assert service.get("User", user["id"]).body["title"] == "Engineer"  # type: ignore[index]


def test_put_without_active_keeps_the_account_state(service: ScimService, user: dict[str, Any]) -> None:
    service.patch("User", user["id"], patch_body({"op": "replace", "path": "active", "value": False}))
    replaced = service.replace("User", user["id"], new_user(user["userName"], title="Templated")).body
    assert replaced is not None
    assert replaced["active"] is False and replaced["title"] == "Templated"


def test_empty_strings_mean_no_value(service: ScimService, user: dict[str, Any]) -> None:
    created = service.create(
        "User",
        new_user("tol-empty@example.com", name={"givenName": "E", "middleName": ""}, nickName="", phoneNumbers=None),
    ).body
    assert created is not None
    assert created["name"] == {"givenName": "E"} and "nickName" not in created
    result = patch(service, user["id"], {"op": "Replace", "path": "title", "value": ""})
    assert "title" not in result
    with pytest.raises(ScimError):
        patch(service, user["id"], {"op": "replace", "path": "userName", "value": ""})
