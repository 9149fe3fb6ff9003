"""The change events name the users and groups a write gave a new version besides its own resource (decision 0047):
a listener (the desktop app's table) re-reads only the ids an event names, so without them it kept showing their
old Modified time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.core.events import ResourcesChanged
from app.directory import repository as repo
from app.scim import bulk
from app.scim.service import ScimService
from tests.conftest import GROUP_SCHEMA, new_user, patch_body

BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


@pytest.fixture
def events(service: ScimService) -> Iterator[list[ResourcesChanged]]:
    seen: list[ResourcesChanged] = []
    unsubscribe = service.bus.subscribe(
        lambda event: seen.append(event) if isinstance(event, ResourcesChanged) else None
    )
    yield seen
    unsubscribe()
    service.close()


def _user(service: ScimService, name: str) -> str:
    return str(service.create("User", new_user(f"{name}@related.test")).body["id"])


def _group(service: ScimService, name: str, members: list[str] = []) -> str:  # noqa: B006 - read only
    body: dict[str, Any] = {"schemas": [GROUP_SCHEMA], "displayName": name, "members": [{"value": m} for m in members]}
    return str(service.create("Group", body).body["id"])


def _modified(events: list[ResourcesChanged], resource_type: str) -> set[str]:
    return {rid for event in events if event.resource_type == resource_type for rid in event.modified}


def _version(service: ScimService, resource_type: str, resource_id: str) -> str:
    return str(service.get(resource_type, resource_id).body["meta"]["version"])


def _read_when_told(service: ScimService, user: str, seen: list[str]) -> Callable[[], None]:
    """A listener that reads the user's version when an event names it modified. What it reads must be the new
    version: the event comes after the commit. Returns the unsubscribe."""
    return service.bus.subscribe(
        lambda event: (
            seen.append(_version(service, "User", user))
            if isinstance(event, ResourcesChanged) and user in event.modified
            else None
        )
    )


def test_a_user_added_to_a_group_is_published_as_modified_after_the_commit(
    service: ScimService, events: list[ResourcesChanged]
) -> None:
    user = _user(service, "joiner")
    group = _group(service, "Joined")
    before = _version(service, "User", user)
    seen_by_reader: list[str] = []
    unsubscribe = _read_when_told(service, user, seen_by_reader)
    events.clear()
    service.patch("Group", group, patch_body({"op": "add", "path": "members", "value": [{"value": user}]}))
    unsubscribe()
    assert _modified(events, "User") == {user}
    assert _modified(events, "Group") == {group}
    assert seen_by_reader == [_version(service, "User", user)] != [before]


def test_a_group_created_with_members_publishes_its_users_and_never_a_group_as_a_user(
    service: ScimService, events: list[ResourcesChanged]
) -> None:
    user = _user(service, "founder")
    nested = _group(service, "Nested")
    events.clear()
    group = _group(service, "Founded", [user, nested])
    assert _modified(events, "User") == {user}  # the nested group shows no ``groups``: no new version, not named
    assert not any(event.more_modified for event in events)
    assert [e.created for e in events if e.resource_type == "Group"] == [(group,)]


def test_a_renamed_user_publishes_its_groups(service: ScimService, events: list[ResourcesChanged]) -> None:
    user = _user(service, "renamed")
    groups = {_group(service, "Holds A", [user]), _group(service, "Holds B", [user])}
    _group(service, "Does not hold")
    events.clear()
    service.patch("User", user, patch_body({"op": "replace", "path": "userName", "value": "renamed2@related.test"}))
    assert _modified(events, "Group") == groups
    assert _modified(events, "User") == {user}


def test_a_renamed_group_publishes_its_member_users(service: ScimService, events: list[ResourcesChanged]) -> None:
    users = {_user(service, "member-a"), _user(service, "member-b")}
    group = _group(service, "Before", sorted(users))
    events.clear()
    service.patch("Group", group, patch_body({"op": "replace", "path": "displayName", "value": "After"}))
    assert _modified(events, "User") == users
    assert _modified(events, "Group") == {group}


def test_a_deleted_group_publishes_its_member_users(service: ScimService, events: list[ResourcesChanged]) -> None:
    user = _user(service, "left-behind")
    group = _group(service, "Deleted", [user])
    events.clear()
    service.delete("Group", group)
    assert _modified(events, "User") == {user}
    assert [e.deleted for e in events if e.resource_type == "Group"] == [(group,)]


def test_a_large_rename_names_a_bounded_number_and_says_there_are_more(
    service: ScimService, events: list[ResourcesChanged], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repo, "RELATED_IDS", 2)
    users = [_user(service, f"crowd-{n}") for n in range(3)]
    group = _group(service, "Crowd", users)
    versions = {user: _version(service, "User", user) for user in users}
    events.clear()
    service.patch("Group", group, patch_body({"op": "replace", "path": "displayName", "value": "Crowd renamed"}))
    (event,) = [event for event in events if event.resource_type == "User"]
    assert len(event.modified) == 2 and set(event.modified) < set(users)
    assert event.more_modified
    # Every member got its new version all the same (the ids past the bound were written, only not named).
    assert all(_version(service, "User", user) != versions[user] for user in users)


def test_a_bulk_join_publishes_the_user_after_the_bulk_commits(
    service: ScimService, events: list[ResourcesChanged]
) -> None:
    user = _user(service, "bulk-joiner")
    group = _group(service, "Bulk joined")
    before = _version(service, "User", user)
    seen_by_reader: list[str] = []
    unsubscribe = _read_when_told(service, user, seen_by_reader)
    events.clear()
    join = patch_body({"op": "add", "path": "members", "value": [{"value": user}]})
    operation = {"method": "PATCH", "path": f"/Groups/{group}", "bulkId": "join", "data": join}
    answer = bulk.run_bulk(service, {"schemas": [BULK], "Operations": [operation]})
    unsubscribe()
    assert answer["Operations"][0]["status"] == "200"
    assert _modified(events, "User") == {user}
    assert seen_by_reader == [_version(service, "User", user)] != [before]  # published once Bulk committed
