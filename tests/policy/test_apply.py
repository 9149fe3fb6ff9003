"""Applying a policy version: the impact preview, the purge of what it no longer allows, history and diff."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import Connection, select

from app.audit.trail import of_kind
from app.core.events import EventBus
from app.policy import versions
from app.policy.apply import preview
from app.policy.diff import diff_versions
from app.policy.in_force import PolicyInForce
from app.scim.service import OutsideSchema, ScimService
from app.store.models import ScimResource, with_paths
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from tests.conftest import GROUP_SCHEMA, new_user

PHONES = """
[[attributes]]
path = "phoneNumbers.value"
category = "work-contact"
purposes = ["internal-directory"]
"""


def with_phones() -> str:
    return versions.default_policy_text() + PHONES


def test_removed_attribute_is_purged_from_every_user(vault: Vault) -> None:
    apply_policy(vault, with_phones(), "alice")
    service = ScimService(vault, "https://scim.test/scim/v2", EventBus(), PolicyInForce(vault))
    try:
        for n in range(5):
            extra = {"phoneNumbers": [{"value": f"+1555000{n:04d}", "type": "work"}]} if n < 3 else {}
            assert service.create("User", new_user(f"apply-{n}@example.test", **extra)).status == 201
    finally:
        service.close()

    with vault.read_connection() as conn:
        impact = preview(conn, versions.default_policy_text())
    assert impact.removed == {"User phoneNumbers": 3}
    assert impact.lines()[0] == (
        "3 stored users hold `phoneNumbers`, which this version no longer allows: it will be removed from them."
    )

    record, _ = apply_policy(vault, versions.default_policy_text(), "bob")
    with vault.read_connection() as conn:
        documents = [json.loads(d) for d in conn.execute(select(ScimResource.document)).scalars()]
        paths = set(conn.execute(with_paths().distinct()).scalars())
        history = versions.history(conn)
        purged = of_kind(conn, "policy.purged")
        applied = of_kind(conn, "policy.applied")
    assert len(documents) == 5 and not any("phoneNumbers" in d for d in documents)
    assert not any(p.startswith("phonenumbers") for p in paths)
    assert [(h.version, h.operator) for h in history] == [(1, "alice"), (2, "bob")]
    assert history[1].sha256 == versions.sha256_of(versions.default_policy_text()) == record.sha256
    assert purged[0].details == {
        "version": 2,
        "attributes": {"User phoneNumbers": 3},
        "resources": 3,
        "deleted": {},
        "group_memberships_removed": 0,
    }
    assert applied[0].details["removed"] == ["User phoneNumbers.value"]
    assert "+1555" not in json.dumps([e.details for e in purged + applied])

    diff = diff_versions(history[0], history[1])
    assert "Attribute removed: User phoneNumbers.value" in diff.summary
    assert any(line.startswith('-path = "phoneNumbers.value"') for line in diff.text_diff)


def test_same_text_is_not_a_new_version(vault: Vault) -> None:
    apply_policy(vault, versions.default_policy_text(), "alice")
    _, impact = apply_policy(vault, versions.default_policy_text(), "alice")
    assert impact.unchanged
    with vault.read_connection() as conn:
        assert len(versions.history(conn)) == 1


def test_running_service_follows_a_new_version(vault: Vault) -> None:
    """An apply (here, as from another process) is seen by the next write's own transaction."""
    apply_policy(vault, with_phones(), "alice")
    service = ScimService(vault, "https://scim.test/scim/v2", EventBus(), PolicyInForce(vault))
    try:
        phone = {"phoneNumbers": [{"value": "+15550000001"}]}
        assert service.create("User", new_user("follow-1@example.test", **phone)).status == 201
        apply_policy(vault, versions.default_policy_text(), "bob")
        with pytest.raises(OutsideSchema) as refused:
            service.create("User", new_user("follow-2@example.test", **phone))
        assert refused.value.status == 400 and "phoneNumbers" in refused.value.detail
    finally:
        service.close()


class _SignallingLock:
    """The policy's lock, telling when the test's own thread is about to wait for it."""

    def __init__(self, lock: threading.Lock, waiting: threading.Event) -> None:
        self._lock = lock
        self._waiting = waiting

    def __enter__(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self._waiting.set()
        self._lock.acquire()

    def __exit__(self, *_exc: object) -> None:
        self._lock.release()


def test_a_refresh_after_an_apply_is_not_undone_by_a_read_in_flight(
    vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An apply in this process is enforced at once, even while another thread (a request, a job) is re-reading the
    version number: that read saw the old version, and it finished after the refresh had asked for a re-read, so
    the refresh returned the old version and every get() kept it for another second."""
    apply_policy(vault, with_phones(), "alice")
    in_force = PolicyInForce(vault)
    read_old, go_on = threading.Event(), threading.Event()
    latest_version = versions.latest_version

    def slow_latest(conn: Connection) -> int | None:
        number = latest_version(conn)
        if threading.current_thread() is not threading.main_thread() and not read_old.is_set():
            read_old.set()
            go_on.wait(10)
        return number

    monkeypatch.setattr(versions, "latest_version", slow_latest)
    in_force._lock = _SignallingLock(in_force._lock, go_on)  # type: ignore[assignment]
    request = threading.Thread(target=in_force.get, name="a request")
    request.start()
    assert read_old.wait(10)
    record, _ = apply_policy(vault, versions.default_policy_text(), "bob")
    try:
        refreshed = in_force.refresh()  # as services.policy.apply does with the running endpoint's
    finally:
        go_on.set()
        request.join(10)
    assert (refreshed.version, in_force.get().version) == (record.version, record.version)


def test_memberships_dropped_by_a_version_give_groups_and_users_a_new_version(vault: Vault) -> None:
    """A version that no longer holds ``members`` deletes every membership: each group's ``members`` and each
    member user's ``groups`` change, so each gets a new version (before: the versions stayed, and a client holding
    an ETag was told 304 Not Modified about a list that had emptied). A user in no group keeps its version."""
    apply_policy(vault, versions.default_policy_text(), "alice")
    service = ScimService(vault, "https://scim.test/scim/v2", EventBus(), PolicyInForce(vault))
    try:
        member = service.create("User", new_user("member@example.test")).body
        loner = service.create("User", new_user("loner@example.test")).body
        assert member is not None and loner is not None
        group_body = {"schemas": [GROUP_SCHEMA], "displayName": "Dropped", "members": [{"value": member["id"]}]}
        group = service.create("Group", group_body).body
        assert group is not None
        before = {r["id"]: service.get(t, r["id"]).headers["ETag"] for t, r in
                  (("User", member), ("User", loner), ("Group", group))}  # fmt: skip
        members_rule = (
            '[[attributes]]\nresource = "Group"\npath = "members"\ncategory = "membership"\n'
            'purposes = ["access-management"]\n'
        )
        without_members = versions.default_policy_text().replace(members_rule, "# members not held\n")
        assert without_members != versions.default_policy_text()
        apply_policy(vault, without_members, "bob")
        after = {r["id"]: service.get(t, r["id"]) for t, r in (("User", member), ("User", loner), ("Group", group))}
    finally:
        service.close()
    assert after[member["id"]].headers["ETag"] != before[member["id"]] and "groups" not in after[member["id"]].body
    assert after[group["id"]].headers["ETag"] != before[group["id"]] and "members" not in after[group["id"]].body
    assert after[loner["id"]].headers["ETag"] == before[loner["id"]]
