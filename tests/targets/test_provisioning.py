"""Provisioning to three independent SCIM servers: each receives only its mapped attributes, changes follow,
deletes are verified, and a target that was down catches up."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from app.audit.trail import of_kind
from app.directory.schema import ENTERPRISE_SCHEMA, USER_SCHEMA
from app.feed.tables import OutboxItem, TargetLink
from app.store.vault import Vault
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.support import provisioning

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def full_user(user_name: str) -> dict[str, object]:
    return {
        "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
        "userName": user_name,
        "displayName": "Subject Seven",
        "name": {"givenName": "Seven", "familyName": "Subject"},
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        "title": "Engineer",
        "active": True,
        ENTERPRISE_SCHEMA: {"department": "R&D"},
    }


def one(target: ScimTarget) -> dict[str, object]:
    users = target.users()
    assert len(users) == 1, users
    return users[0]


def held_keys(user: dict[str, object]) -> set[str]:
    return {key for key in user if key not in ("schemas", "id", "meta")}


def test_each_target_gets_only_its_attributes(vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]) -> None:
    app1, app2, app3 = scim_targets(3)
    run = provisioning(vault, [app1, app2, app3])
    try:
        created = run.service.create("User", full_user("subject-7@example.test")).body
        assert created is not None
        wait_until(lambda: all(len(t.users()) == 1 for t in (app1, app2, app3)))
        assert held_keys(one(app1)) == {"userName", "displayName", "emails"}
        assert one(app1)["emails"] == [{"value": "subject-7@example.test", "type": "work", "primary": True}]
        assert held_keys(one(app2)) == {"userName", "name", "title", ENTERPRISE_SCHEMA}
        assert one(app2)["name"] == {"givenName": "Seven", "familyName": "Subject"}
        assert one(app2)[ENTERPRISE_SCHEMA] == {"department": "R&D"}
        assert held_keys(one(app3)) == {"userName", "displayName"}

        # An update reaches the targets that receive the changed attribute.
        run.service.patch(
            "User",
            created["id"],
            {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "Lead"}]},
        )
        wait_until(lambda: one(app2).get("title") == "Lead")

        # A group with the user as member reaches the target whose mapping holds members.
        group = run.service.create(
            "Group",
            {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Team A",
                "members": [{"value": created["id"]}],
            },
        ).body
        assert group is not None
        wait_until(lambda: len(app3.groups()) == 1 and len(app3.groups()[0].get("members") or []) == 1)
        assert app3.groups()[0]["members"][0]["value"] == one(app3)["id"]
        assert app1.groups() == [] and app2.groups() == []  # their mappings hold no group attributes

        # A delete reaches every target, and is verified by reading back.
        run.service.delete("Group", group["id"])
        run.service.delete("User", created["id"])
        wait_until(lambda: all(t.users() == [] for t in (app1, app2, app3)) and app3.groups() == [])
        wait_until(lambda: _links(vault) == 0)
        with vault.read_connection() as conn:
            deleted = of_kind(conn, "provision.deleted")
            created_events = of_kind(conn, "provision.created")
        assert {e.details["target"] for e in deleted} == {"app1", "app2", "app3"}
        assert {tuple(e.details["attributes"]) for e in created_events if e.details["target"] == "app1"} == {
            ("displayName", "emails", "userName")
        }
    finally:
        run.close()


def _links(vault: Vault) -> int:
    with vault.read_connection() as conn:
        return len(conn.execute(select(TargetLink.resource_id)).all())


def _pending(vault: Vault) -> int:
    with vault.read_connection() as conn:
        return len(conn.execute(select(OutboxItem.seq).where(OutboxItem.state == "pending")).all())


def test_a_stopped_target_catches_up(vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]) -> None:
    (app1,) = scim_targets(1)
    run = provisioning(vault, [app1])
    try:
        app1.stop()
        for n in range(5):
            run.service.create("User", full_user(f"catch-{n}@example.test"))
        wait_until(lambda: _attempted(vault) >= 5)  # every item failed at least once and waits for a retry
        assert _pending(vault) == 5
        app1.start()
        wait_until(lambda: len(app1.users()) == 5, timeout=30)
        wait_until(lambda: _pending(vault) == 0)
    finally:
        run.close()


def _attempted(vault: Vault) -> int:
    with vault.read_connection() as conn:
        return len(conn.execute(select(OutboxItem.seq).where(OutboxItem.attempts > 0)).all())


def test_restart_resumes_the_outbox_without_duplicates(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    (app1,) = scim_targets(1)
    run = provisioning(vault, [app1])
    run.dispatcher.stop()  # as if the process died before pushing anything
    for n in range(20):
        run.service.create("User", full_user(f"resume-{n}@example.test"))
    assert _pending(vault) == 20
    run.dispatcher.start()
    try:
        wait_until(lambda: _pending(vault) == 0, timeout=30)
        names = sorted(str(u["userName"]) for u in app1.users())
        assert names == sorted(f"resume-{n}@example.test" for n in range(20))
    finally:
        run.close()


def test_a_narrower_mapping_is_pushed_to_the_target(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    """A new policy version that stops sending `title` to app2 removes it there too."""
    from app.targets.policy_change import apply_policy
    from tests.targets.support import policy_with_recipients

    (app2,) = scim_targets(1)
    app2.name = "app2"
    run = provisioning(vault, [app2])
    try:
        run.service.create("User", full_user("narrow-1@example.test"))
        wait_until(lambda: len(app2.users()) == 1 and one(app2).get("title") == "Engineer")
        narrower = policy_with_recipients().replace('"title", ', "", 1)
        assert narrower != policy_with_recipients()
        apply_policy(vault, narrower, "dpo")
        wait_until(lambda: "title" not in one(app2))
        assert one(app2)["name"] == {"givenName": "Seven", "familyName": "Subject"}  # the rest is still there
        with vault.read_connection() as conn:
            applied = of_kind(conn, "policy.applied")[0]
        assert applied.details["targets_resent"] == {"app2": 1}
    finally:
        run.close()


def test_a_deleted_member_leaves_its_groups_at_the_target(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    """Deprovisioning a member (SCIM DELETE of the user) pushes each of its groups again, as an erasure does: a
    target that does not cascade a user's deletion into its groups kept the deleted person's id in their member
    lists, a reference Custos no longer holds and never removed."""
    (app3,) = scim_targets(1)
    app3.name = "app3"
    run = provisioning(vault, [app3])
    try:
        kept = run.service.create("User", full_user("kept-1@example.test")).body
        gone = run.service.create("User", full_user("gone-2@example.test")).body
        assert kept is not None and gone is not None
        members = [{"value": kept["id"]}, {"value": gone["id"]}]
        body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Team B", "members": members}
        run.service.create("Group", body)
        wait_until(lambda: len(app3.groups()) == 1 and len(app3.groups()[0].get("members") or []) == 2)
        remote_kept = next(u["id"] for u in app3.users() if u["userName"] == "kept-1@example.test")

        run.service.delete("User", gone["id"])
        wait_until(lambda: len(app3.users()) == 1 and _pending(vault) == 0)
        wait_until(lambda: [m["value"] for m in app3.groups()[0].get("members") or []] == [remote_kept])
    finally:
        run.close()


def test_an_account_the_retention_job_deletes_leaves_its_groups_at_the_target(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    """The retention job's account purge deleted the row and queued the user's deletion, not its groups: a target
    that does not cascade kept the deleted person's id in their member lists (as a SCIM DELETE did)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from app.jobs import run_retention
    from app.store.models import ScimResource

    (app3,) = scim_targets(1)
    app3.name = "app3"
    run = provisioning(vault, [app3])
    try:
        kept = run.service.create("User", full_user("kept-3@example.test")).body
        left = run.service.create("User", {**full_user("left-4@example.test"), "active": False}).body
        assert kept is not None and left is not None
        members = [{"value": kept["id"]}, {"value": left["id"]}]
        body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Team C", "members": members}
        run.service.create("Group", body)
        wait_until(lambda: len(app3.groups()) == 1 and len(app3.groups()[0].get("members") or []) == 2)
        remote_kept = next(u["id"] for u in app3.users() if u["userName"] == "kept-3@example.test")
        long_ago = datetime.now(UTC) - timedelta(days=400)
        with vault.write_transaction() as conn:
            table = ScimResource.__table__
            conn.execute(update(table).where(table.c.id == left["id"]).values(deactivated_at=long_ago))

        purges = run_retention(vault, run.policy, datetime.now(UTC))
        assert ("accounts", 1) in [(p.kind, p.subjects) for p in purges]
        wait_until(lambda: [m["value"] for m in app3.groups()[0].get("members") or []] == [remote_kept])
    finally:
        run.close()
