"""The single-attribute PATCH applied without scim2-models' PatchOp gives what the general path gives.

app/directory/simple_patch.py takes the shapes Entra ID and Okta send most (issue 16: three quarters of a
millisecond of the writer's time per PATCH). These tests hold it to the general path: for each shape it takes, the
stored document is the same both ways; each shape it must leave to the general path (filters, multi-valued or
complex targets, other types, required attributes removed, read-only attributes) it does leave.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from app.directory.simple_patch import simple_patch
from app.directory.validation import apply_patch, patched_by_model, stored_document
from app.scim.tolerance import normalise_patch

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER_ID = "2819c223-7f76-453a-919d-413861904646"


def user(enterprise: bool = True) -> dict[str, Any]:
    document: dict[str, Any] = {
        "schemas": [USER, ENTERPRISE] if enterprise else [USER],
        "id": USER_ID,
        "userName": "avery.example@example.com",
        "externalId": "ext-0001",
        "name": {"givenName": "Avery", "familyName": "Example"},
        "displayName": "Avery Example",
        "emails": [{"value": "avery.example@example.com", "type": "work", "primary": True}],
        "title": "Engineer",
        "active": True,
    }
    if enterprise:
        document[ENTERPRISE] = {"department": "Research", "employeeNumber": "0001"}
    return document


def group() -> dict[str, Any]:
    return {"schemas": [GROUP], "id": "e9e30dba-f08f-4109-8486-d5c6a331660a", "displayName": "Research"}


def body(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH], "Operations": list(operations)}


TAKEN = [
    ("User", user(), body({"op": "replace", "path": "title", "value": "Lead"})),
    ("User", user(), body({"op": "replace", "path": "active", "value": False})),
    ("User", user(), body({"op": "Replace", "path": "active", "value": "False"})),  # Entra's words, normalised
    ("User", user(), body({"op": "add", "path": "nickName", "value": "Ave"})),
    ("User", user(), body({"op": "replace", "path": "name.givenName", "value": "Ava"})),
    ("User", user(), body({"op": "replace", "path": "NAME.GIVENNAME", "value": "Ava"})),
    ("User", user(), body({"op": "remove", "path": "title"})),
    ("User", user(), body({"op": "replace", "path": "title", "value": ""})),  # Entra clears with ""
    ("User", user(), body({"op": "remove", "path": "name.givenName"})),
    ("User", user(), body({"op": "replace", "path": f"{USER}:displayName", "value": "A. Example"})),
    ("User", user(), body({"op": "replace", "path": f"{ENTERPRISE}:department", "value": "Sales"})),
    ("User", user(), body({"op": "replace", "path": "department", "value": "Sales"})),  # URN left out
    ("User", user(), body({"op": "replace", "path": "externalId", "value": "ext-0002"})),
    ("User", user(), body({"op": "replace", "path": "userName", "value": "avery.b@example.com"})),
    ("User", user(), body({"op": "replace", "value": {"active": False, "title": "Lead"}})),  # Okta, no path
    (
        "User",
        user(),
        body(
            {"op": "replace", "path": "title", "value": "Lead"},
            {"op": "replace", "path": "title", "value": "Head"},
            {"op": "remove", "path": "nickName"},
        ),
    ),
    ("User", user(enterprise=False), body({"op": "replace", "path": "name.familyName", "value": "Sample"})),
    (
        "User",
        {k: v for k, v in user().items() if k != "name"},
        body({"op": "add", "path": "name.givenName", "value": "Ava"}),
    ),
    ("Group", group(), body({"op": "replace", "path": "displayName", "value": "Research and Development"})),
]

LEFT = [
    ("User", user(), body({"op": "replace", "path": 'emails[type eq "work"].value', "value": "a@example.com"})),
    ("User", user(), body({"op": "add", "path": "emails", "value": [{"value": "b@example.com"}]})),
    ("User", user(), body({"op": "replace", "path": "name", "value": {"givenName": "Ava"}})),
    ("User", user(), body({"op": "replace", "path": "active", "value": 1})),
    ("User", user(), body({"op": "replace", "path": "title", "value": 7})),
    ("User", user(), body({"op": "replace", "path": "userName", "value": ""})),
    ("User", user(), body({"op": "remove", "path": "userName"})),
    ("User", user(), body({"op": "replace", "path": "id", "value": "other"})),
    ("User", user(), body({"op": "replace", "path": "meta.version", "value": 'W/"1"'})),
    ("User", user(), body({"op": "replace", "path": "password", "value": "not-stored"})),
    ("User", user(), body({"op": "replace", "path": "groups", "value": []})),
    ("User", user(), body({"op": "replace", "path": "unknownAttribute", "value": "x"})),
    ("User", user(), body({"op": "replace", "path": "profileUrl", "value": "https://example.com/a"})),
    ("User", user(enterprise=False), body({"op": "replace", "path": "department", "value": "Sales"})),
    ("User", user(), body({"op": "remove", "path": "department"}, {"op": "remove", "path": "employeeNumber"})),
    ("User", user(), body({"op": "replace", "value": {"name": {"givenName": "Ava"}}})),
    ("User", user(), body({"op": "replace", "value": {f"{ENTERPRISE}:department": "Sales"}})),
    ("User", user(), body({"op": "replace", "path": "title"})),
    ("User", user(), body({"op": "remove", "path": "title", "value": "Engineer"})),
    ("User", user(), body({"op": "move", "path": "title", "value": "Lead"})),
    ("Group", group(), body({"op": "add", "path": "members", "value": [{"value": USER_ID}]})),
]


def _normalised(resource_type: str, current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    return normalise_patch(resource_type, copy.deepcopy(patch), current)


@pytest.mark.parametrize(("resource_type", "current", "patch"), TAKEN)
def test_a_shape_it_takes_gives_what_the_general_path_gives(
    resource_type: str, current: dict[str, Any], patch: dict[str, Any]
) -> None:
    normalised = _normalised(resource_type, current, patch)
    assert simple_patch(resource_type, current, normalised) is not None, "the fast path should take this shape"

    fast, fast_changed = apply_patch(resource_type, copy.deepcopy(current), copy.deepcopy(normalised))
    general, general_changed = patched_by_model(resource_type, copy.deepcopy(current), copy.deepcopy(normalised))

    assert fast_changed == general_changed
    if general_changed:
        assert stored_document(resource_type, fast) == stored_document(resource_type, general)


@pytest.mark.parametrize(("resource_type", "current", "patch"), LEFT)
def test_a_shape_it_leaves_goes_the_general_way(
    resource_type: str, current: dict[str, Any], patch: dict[str, Any]
) -> None:
    normalised = _normalised(resource_type, current, patch)
    assert simple_patch(resource_type, current, normalised) is None


def test_the_value_held_already_is_no_change() -> None:
    current = user()
    model, changed = apply_patch(
        "User", current, _normalised("User", current, body({"op": "replace", "path": "title", "value": "Engineer"}))
    )
    assert (model, changed) == (None, False)


def test_the_stored_document_is_not_changed_in_place() -> None:
    current = user()
    before = copy.deepcopy(current)
    simple_patch("User", current, _normalised("User", current, body({"op": "remove", "path": "name.givenName"})))
    assert current == before
