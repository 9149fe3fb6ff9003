"""Membership-only Group PATCHes (app/scim/members.py): read as an edit by id, with the general path's outcome."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select

from app.audit.tables import AuditEvent
from app.directory.errors import ScimError
from app.scim import service as service_module
from app.scim.members import MembershipEdit, membership_edit, touches_members
from app.scim.service import ScimService
from tests.conftest import GROUP_SCHEMA, new_user, patch_body


def _ids(value: list[str]) -> list[dict[str, str]]:
    return [{"value": member} for member in value]


# -- reading the body ---------------------------------------------------------------------------------------------


def test_entra_add_and_remove_are_edits() -> None:
    body = patch_body({"op": "Add", "path": "members", "value": _ids(["a", "b"])})
    assert membership_edit(body) == MembershipEdit(False, ("a", "b"), frozenset())
    body = patch_body({"op": "Remove", "path": "members", "value": _ids(["a"])})
    assert membership_edit(body) == MembershipEdit(False, (), frozenset({"a"}))


def test_okta_filter_removal_and_later_operations_override_earlier_ones() -> None:
    body = patch_body(
        {"op": "add", "path": "members", "value": [{"value": "a", "display": "Ada"}, {"value": "b"}]},
        {"op": "remove", "path": 'members[value eq "a"]'},
        {"op": "add", "path": "members", "value": _ids(["c"])},
        {"op": "remove", "path": "members", "value": _ids(["c"])},
        {"op": "add", "path": "members", "value": _ids(["c"])},
    )
    assert membership_edit(body) == MembershipEdit(False, ("b", "c"), frozenset({"a"}))


def test_okta_path_less_members_are_the_pathed_forms() -> None:
    """Okta's whole-list push ``{"op":"replace","value":{"members":[…]}}`` (and add), by the short or full name."""
    body = patch_body({"op": "replace", "value": {"members": _ids(["x", "y"])}})
    assert membership_edit(body) == MembershipEdit(True, ("x", "y"), frozenset())
    body = patch_body({"op": "Add", "value": {f"{GROUP_SCHEMA}:members": _ids(["x"])}})
    assert membership_edit(body) == MembershipEdit(False, ("x",), frozenset())


def test_replace_and_remove_of_the_whole_list_clear_first() -> None:
    body = patch_body({"op": "replace", "path": "members", "value": _ids(["x"])})
    assert membership_edit(body) == MembershipEdit(True, ("x",), frozenset())
    body = patch_body({"op": "add", "path": "members", "value": _ids(["x"])}, {"op": "remove", "path": "members"})
    assert membership_edit(body) == MembershipEdit(True, (), frozenset())


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "path": "displayName", "value": "Staff"},  # another attribute
        {"op": "add", "value": {"members": _ids(["a"]), "displayName": "x"}},  # path-less, more than members
        {"op": "remove", "value": {"members": _ids(["a"])}},  # a path-less remove: the general path judges it
        {"op": "remove", "path": 'members[display eq "Ada"]'},  # another filter
        {"op": "remove", "path": 'members[value eq "a\\"b"]'},  # an escape in the id
        {"op": "add", "path": "members", "value": [{"value": "a", "type": "User"}]},  # more than value and display
        {"op": "add", "path": "members", "value": [{"value": ""}]},  # no id
        {"op": "add", "path": "members", "value": []},  # adds nothing: the general path judges it
        {"op": "add", "path": "members"},  # no value
        {"op": "move", "path": "members", "value": _ids(["a"])},  # not an operation
        {"Op": "add", "path": "members", "value": _ids(["a"])},  # a tolerated spelling: the general path's
        {"op": "remove", "path": 'members[value eq "a"]', "value": _ids(["b"])},  # a filter and a value
    ],
)
def test_anything_else_takes_the_general_path(operation: dict[str, Any]) -> None:
    assert membership_edit(patch_body(operation)) is None


def test_a_body_the_general_path_would_judge_is_left_to_it() -> None:
    operation = {"op": "add", "path": "members", "value": _ids(["a"])}
    assert membership_edit({"Operations": [operation]}) is None  # no schemas
    assert membership_edit({**patch_body(operation), "id": "x"}) is None
    assert membership_edit(patch_body()) is None


# -- applied to a vault -------------------------------------------------------------------------------------------


def _users(service: ScimService, prefix: str, count: int) -> list[str]:
    return [service.create("User", new_user(f"{prefix}{n}@example.test")).body["id"] for n in range(count)]


def _group(service: ScimService, members: list[str]) -> str:
    body = {"schemas": [GROUP_SCHEMA], "displayName": "Staff", "members": _ids(members)}
    return str(service.create("Group", body).body["id"])


def _models_given(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What the whole-group model is given, PATCH by PATCH (the real apply_patch still runs)."""
    seen: list[dict[str, Any]] = []
    real = service_module.apply_patch

    def spy(resource_type: str, current: dict[str, Any], body: dict[str, Any]) -> Any:
        seen.append(current)
        return real(resource_type, current, body)

    monkeypatch.setattr(service_module, "apply_patch", spy)
    return seen


def _outcome(service: ScimService, group_id: str, body: dict[str, Any]) -> tuple[Any, ...]:
    """What a client sees of a PATCH: the status (or error type) and the members and version a GET then shows."""
    before = service.get("Group", group_id).body["meta"]["version"]
    try:
        answer: Any = service.patch("Group", group_id, body).status
    except ScimError as error:
        answer = (error.status, error.scim_type)
    after = service.get("Group", group_id).body
    members = sorted(member["value"] for member in after.get("members", []))
    return answer, members, after["meta"]["version"] != before


SEQUENCES = {
    "add one": lambda u: [{"op": "add", "path": "members", "value": _ids([u[3]])}],
    "add one held": lambda u: [{"op": "add", "path": "members", "value": _ids([u[0]])}],
    "add two, one twice": lambda u: [{"op": "add", "path": "members", "value": _ids([u[3], u[4], u[3]])}],
    "remove by filter": lambda u: [{"op": "remove", "path": f'members[value eq "{u[1]}"]'}],
    "remove by value list": lambda u: [{"op": "remove", "path": "members", "value": _ids([u[0], u[2]])}],
    "remove all": lambda u: [{"op": "remove", "path": "members"}],
    "replace": lambda u: [{"op": "replace", "path": "members", "value": _ids([u[2], u[4]])}],
    "add then remove it": lambda u: [
        {"op": "add", "path": "members", "value": _ids([u[3]])},
        {"op": "remove", "path": f'members[value eq "{u[3]}"]'},
    ],
    "remove then add back": lambda u: [
        {"op": "remove", "path": "members", "value": _ids([u[0]])},
        {"op": "add", "path": "members", "value": _ids([u[0]])},
    ],
    "add an unknown id": lambda u: [{"op": "add", "path": "members", "value": _ids([u[3], "no-such-member"])}],
    "add the group itself": lambda u: [{"op": "add", "path": "members", "value": _ids([u[-1]])}],
    "rename": lambda u: [{"op": "replace", "path": "displayName", "value": "Everyone"}],
    "rename to the same name": lambda u: [{"op": "replace", "path": "displayName", "value": "Staff"}],
    "rename and add": lambda u: [
        {"op": "replace", "path": "displayName", "value": "Everyone"},
        {"op": "add", "path": "members", "value": _ids([u[3]])},
    ],
    "path-less replace with members": lambda u: [{"op": "replace", "value": {"members": _ids([u[4]])}}],
    "path-less add with members": lambda u: [{"op": "add", "value": {"members": _ids([u[3], u[0]])}}],
    "path-less add by the full name": lambda u: [{"op": "add", "value": {f"{GROUP_SCHEMA}:members": _ids([u[4]])}}],
    "path-less replace with an unknown id": lambda u: [{"op": "replace",
                                                        "value": {"members": _ids([u[1], "no-such-member"])}}],
    "path-less replace with an empty list": lambda u: [{"op": "replace", "value": {"members": []}}],
    "remove by display filter": lambda u: [{"op": "remove", "path": 'members[display eq "nobody"]'}],
    "remove by filter, id in upper case": lambda u: [{"op": "remove", "path": f'members[value eq "{u[1].upper()}"]'}],
    "remove by value list, id in upper case": lambda u: [{"op": "remove", "path": "members",
                                                           "value": _ids([u[1].upper()])}],
    "add an id in upper case": lambda u: [{"op": "add", "path": "members", "value": _ids([u[0].upper()])}],
    "remove a non-member by filter": lambda u: [{"op": "remove", "path": f'members[value eq "{u[4]}"]'}],
    "remove a non-member by value list": lambda u: [{"op": "remove", "path": "members", "value": _ids([u[4]])}],
    "remove an unknown id": lambda u: [{"op": "remove", "path": "members", "value": _ids(["no-such-member"])}],
    "replace with an empty list": lambda u: [{"op": "replace", "path": "members", "value": []}],
    "filter in upper case": lambda u: [{"op": "Remove", "path": f'MEMBERS[VALUE EQ "{u[1]}"]'}],
    "remove by value list and rename": lambda u: [
        {"op": "remove", "path": "members", "value": _ids([u[0], u[2]])},
        {"op": "replace", "path": "displayName", "value": "Everyone"},
    ],
    "rename, remove by filter, add": lambda u: [
        {"op": "replace", "path": "displayName", "value": "Everyone"},
        {"op": "remove", "path": f'members[value eq "{u[1]}"]'},
        {"op": "add", "path": "members", "value": _ids([u[4]])},
    ],
    "rename to the same name and add one held": lambda u: [
        {"op": "replace", "path": "displayName", "value": "Staff"},
        {"op": "add", "path": "members", "value": _ids([u[0]])},
    ],
    "rename to the same name and remove in upper case": lambda u: [
        {"op": "replace", "path": "displayName", "value": "Staff"},
        {"op": "remove", "path": "members", "value": _ids([u[1].upper()])},
    ],
    "rename and add an unknown id": lambda u: [
        {"op": "replace", "path": "displayName", "value": "Everyone"},
        {"op": "add", "path": "members", "value": _ids(["no-such-member"])},
    ],
    "remove by filter with display": lambda u: [{"op": "remove", "path": "members",
                                                 "value": [{"value": u[0], "display": "Someone Else"}]}],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_the_edit_has_the_general_paths_outcome(
    service: ScimService, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Each sequence on two identical groups: one by the edit, one with the edit turned off (the general path)."""
    users = _users(service, f"seq-{name.replace(' ', '-')}-", 5)
    fast_group, general_group = _group(service, users[:3]), _group(service, users[:3])
    fast = _outcome(service, fast_group, patch_body(*SEQUENCES[name]([*users, fast_group])))
    monkeypatch.setattr(service_module, "membership_edit", lambda body: None)
    monkeypatch.setattr(service_module, "split_membership", lambda body: None)
    general = _outcome(service, general_group, patch_body(*SEQUENCES[name]([*users, general_group])))
    if name == "add the group itself":
        fast, general = (fast[0], len(fast[1]), fast[2]), (general[0], len(general[1]), general[2])
    assert fast == general


def test_a_join_does_not_go_through_the_whole_group(service: ScimService, monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of the edit: a join to a large group neither validates nor rewrites the group (it failed before:
    every membership PATCH was applied to the whole group as a model)."""
    users = _users(service, "join-", 3)
    group_id = _group(service, users[:2])

    def whole_group(*args: object) -> None:
        raise AssertionError("a membership PATCH went through the whole-group model")

    monkeypatch.setattr(service_module, "apply_patch", whole_group)
    answer = service.patch("Group", group_id, patch_body({"op": "add", "path": "members", "value": _ids([users[2]])}))
    assert sorted(member["value"] for member in answer.body["members"]) == sorted(users)
    assert answer.headers["ETag"] == answer.body["meta"]["version"] != 'W/"1"'


def test_a_join_is_audited_once_and_a_repeat_not_at_all(service: ScimService) -> None:
    users = _users(service, "audit-join-", 2)
    group_id = _group(service, users[:1])
    join = patch_body({"op": "add", "path": "members", "value": _ids([users[1]])})

    def patched() -> int:
        with service.vault.read_connection() as conn:
            rows = conn.execute(select(AuditEvent.kind).where(AuditEvent.kind == "scim.resource.patched")).all()
        return len(rows)

    before = patched()
    first = service.patch("Group", group_id, join)
    assert patched() == before + 1
    again = service.patch("Group", group_id, join)
    assert patched() == before + 1  # nothing changed: no entry, no new version
    assert again.body["meta"]["version"] == first.body["meta"]["version"]


def test_an_unknown_member_stores_nothing_of_the_request(service: ScimService) -> None:
    users = _users(service, "unknown-", 2)
    group_id = _group(service, users[:1])
    body = patch_body(
        {"op": "remove", "path": "members", "value": _ids([users[0]])},
        {"op": "add", "path": "members", "value": _ids([users[1], "not-a-resource"])},
    )
    with pytest.raises(ScimError) as refused:
        service.patch("Group", group_id, body)
    assert (refused.value.status, refused.value.scim_type) == (400, "invalidValue")
    assert "not-a-resource" not in json.dumps(refused.value.detail)  # names the position, never the value
    held = service.get("Group", group_id).body
    assert [member["value"] for member in held["members"]] == users[:1]
    assert held["meta"]["version"] == 'W/"1"'


@pytest.mark.parametrize(
    ("operation", "touches"),
    [
        ({"op": "replace", "path": "displayName", "value": "Staff"}, False),
        ({"op": "replace", "value": {"displayName": "Staff", "externalId": "x"}}, False),
        ({"op": "add", "path": "members", "value": []}, True),
        ({"Op": "remove", "Path": 'Members[value eq "a"]'}, True),
        ({"op": "remove", "path": f"{GROUP_SCHEMA}:members"}, True),
        ({"op": "replace", "value": {"Members": []}}, True),
        ({"op": "replace", "value": {GROUP_SCHEMA: {"members": []}}}, True),
        ({"op": "add", "value": {f"{GROUP_SCHEMA}:members": []}}, True),  # the attribute's full name
        ({"op": "add", "value": {f"{GROUP_SCHEMA.upper()}:Members": []}}, True),
        ({"op": "replace", "value": {f"{GROUP_SCHEMA}:displayName": "Staff"}}, False),
        ({"op": "replace", "value": "not an object"}, True),
    ],
)
def test_which_patches_may_touch_members(operation: dict[str, Any], touches: bool) -> None:
    assert touches_members(patch_body(operation)) is touches
    assert touches_members({"Operations": "not a list"}) is True


def test_a_rename_does_not_read_the_members_into_the_model(
    service: ScimService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rename of a large group validated every member (it failed before: the members were in the model)."""
    users = _users(service, "model-rename-", 2)
    group_id = _group(service, users)
    seen = _models_given(monkeypatch)
    answer = service.patch("Group", group_id, patch_body({"op": "replace", "path": "displayName", "value": "All"}))
    assert "members" not in seen[0]
    assert answer.body["displayName"] == "All"
    assert sorted(member["value"] for member in answer.body["members"]) == sorted(users)


def test_a_path_less_add_naming_members_in_full_adds_them(service: ScimService) -> None:
    """``{"urn:…:Group:members": [...]}`` is members too: the general path applies it, so its members must be in the
    model (it failed before: taken for a rename, the member was left out and the 200 answer changed nothing)."""
    users = _users(service, "full-name-", 2)
    group_id = _group(service, users[:1])
    body = patch_body({"op": "add", "value": {f"{GROUP_SCHEMA}:members": _ids(users[1:])}})
    answer = service.patch("Group", group_id, body)
    assert sorted(member["value"] for member in answer.body["members"]) == sorted(users)
    assert sorted(member["value"] for member in service.get("Group", group_id).body["members"]) == sorted(users)


def test_a_rename_with_a_large_removal_goes_by_id_with_one_entry_and_one_version(
    service: ScimService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Removing members by value list and renaming in one PATCH went through the whole-group model, where
    scim2-models compares each removed value with every member (11.7 s for 500 of 1,000, holding the writer). The
    membership part now goes by id; the request still makes one trail entry and one new version."""
    users = _users(service, "split-", 4)
    group_id = _group(service, users)
    seen = _models_given(monkeypatch)
    with service.vault.read_connection() as conn:
        before = len(conn.execute(select(AuditEvent.kind).where(AuditEvent.kind == "scim.resource.patched")).all())
    version = service.get("Group", group_id).body["meta"]["version"]
    body = patch_body({"op": "remove", "path": "members", "value": _ids(users[:2])},
                      {"op": "replace", "path": "displayName", "value": "Everyone"})  # fmt: skip
    answer = service.patch("Group", group_id, body)
    assert sorted(m["value"] for m in answer.body["members"]) == sorted(users[2:])
    assert answer.body["displayName"] == "Everyone"
    assert seen and "members" not in seen[0]  # the model held the rename only, never the membership
    with service.vault.read_connection() as conn:
        after = len(conn.execute(select(AuditEvent.kind).where(AuditEvent.kind == "scim.resource.patched")).all())
    assert after == before + 1
    number = int(version.strip('W/"'))
    assert answer.body["meta"]["version"] == f'W/"{number + 1}"'


def test_the_answer_with_members_is_the_version_written(service: ScimService) -> None:
    """The answer of a PATCH that shows the members is read after the commit (off the writer): the version written,
    its members, and a body and ETag that agree."""
    users = _users(service, "answered", 3)
    group = _group(service, users[:2])
    answer = service.patch("Group", group, patch_body({"op": "add", "path": "members", "value": _ids([users[2]])}))
    assert answer.status == 200
    assert sorted(member["value"] for member in answer.body["members"]) == sorted(users)
    assert answer.headers["ETag"] == answer.body["meta"]["version"] == service.get("Group", group).headers["ETag"]


def test_a_later_write_before_the_answer_is_read_is_answered_as_that_version(
    service: ScimService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another write to the group committed between this PATCH's commit and the reading of its answer: the answer is
    that later version with its own ETag, never a body of one version under the ETag of another."""
    users = _users(service, "raced", 3)
    group = _group(service, users[:1])
    original_snapshot = service.vault.read_snapshot
    raced: list[bool] = []

    @contextmanager
    def session_after_another_write() -> Iterator[Any]:
        if not raced:  # the first read after the commit: a rename gets in first
            raced.append(True)
            service.patch("Group", group, patch_body({"op": "replace", "path": "displayName", "value": "Renamed"}))
        with original_snapshot() as conn:
            yield conn

    monkeypatch.setattr(service.vault, "read_snapshot", session_after_another_write)
    answer = service.patch("Group", group, patch_body({"op": "add", "path": "members", "value": _ids([users[1]])}))
    assert raced
    assert answer.body["displayName"] == "Renamed"
    assert answer.headers["ETag"] == answer.body["meta"]["version"] == service.get("Group", group).headers["ETag"]
    assert sorted(member["value"] for member in answer.body["members"]) == sorted(users[:2])


def test_a_group_deleted_before_the_answer_is_read_is_answered_204(
    service: ScimService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PATCH succeeded and the group was deleted before its answer was read: 204 No Content (RFC 7644 §3.5.2),
    never a 404 for a change that was made, nor a member list that no longer exists."""
    users = _users(service, "vanished", 2)
    group = _group(service, users[:1])
    original_snapshot = service.vault.read_snapshot

    @contextmanager
    def session_after_a_delete() -> Iterator[Any]:
        service.delete("Group", group)
        with original_snapshot() as conn:
            yield conn

    monkeypatch.setattr(service.vault, "read_snapshot", session_after_a_delete)
    answer = service.patch("Group", group, patch_body({"op": "add", "path": "members", "value": _ids([users[1]])}))
    assert (answer.status, answer.body) == (204, None)
