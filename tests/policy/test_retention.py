"""The retention job with a fake clock: category periods, deactivated-account deletion, evidence without values."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.audit.trail import of_kind
from app.core.events import EventBus
from app.jobs import RetentionScheduler
from app.jobs import run_retention as run_once
from app.policy.in_force import PolicyInForce
from app.policy.versions import default_policy_text
from app.scim.service import ScimService
from app.store.models import ScimResource
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from tests.conftest import ENTERPRISE, USER_SCHEMA, new_user

DEACTIVATED = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)


def seed(vault: Vault) -> dict[str, str]:
    service = ScimService(vault, "https://scim.test/scim/v2", EventBus(), PolicyInForce(vault))
    ids = {}
    try:
        for name, active in (("left", False), ("stays", True), ("left-recently", False)):
            body = new_user(
                f"{name}@example.test",
                active=active,
                title="Engineer",
                schemas=[USER_SCHEMA, ENTERPRISE],
                **{ENTERPRISE: {"department": "R&D"}},
            )
            ids[name] = service.create("User", body).body["id"]  # type: ignore[index]
    finally:
        service.close()
    with vault.write_transaction() as conn:  # when they were deactivated, on the fake clock
        table = ScimResource.__table__
        conn.execute(update(table).where(table.c.id == ids["left"]).values(deactivated_at=DEACTIVATED))
        recent = DEACTIVATED + timedelta(days=20)
        conn.execute(update(table).where(table.c.id == ids["left-recently"]).values(deactivated_at=recent))
    return ids


def documents(vault: Vault) -> dict[str, dict[str, object]]:
    with vault.read_connection() as conn:
        rows = conn.execute(select(ScimResource.id, ScimResource.document)).all()
    return {row.id: json.loads(row.document) for row in rows}


def test_retention_purges_by_category_then_account(vault: Vault) -> None:
    apply_policy(vault, default_policy_text(), "dpo")
    ids = seed(vault)
    policy = PolicyInForce(vault)

    assert run_once(vault, policy, DEACTIVATED + timedelta(days=6)) == []  # employment data: P7D, not yet

    purges = run_once(vault, policy, DEACTIVATED + timedelta(days=8))
    assert [(p.kind, p.category, p.subjects) for p in purges] == [("attributes", "Employment details", 1)]
    held = documents(vault)
    assert "title" not in held[ids["left"]] and ENTERPRISE not in held[ids["left"]]
    assert held[ids["left"]]["userName"] == "left@example.test"  # the account itself is kept for P30D
    assert held[ids["stays"]]["title"] == "Engineer" and held[ids["left-recently"]]["title"] == "Engineer"

    # Day 31: "left" has passed the account retention; "left-recently" (day 20) its employment data's P7D.
    purges = run_once(vault, policy, DEACTIVATED + timedelta(days=31))
    assert [(p.kind, p.subjects) for p in purges] == [("attributes", 1), ("accounts", 1)]
    assert set(documents(vault)) == {ids["stays"], ids["left-recently"]}

    with vault.read_connection() as conn:
        evidence = [event.details for event in of_kind(conn, "retention.purged")]
    request = str(evidence[0].pop("erasure_request"))
    assert evidence[0] == {
        "kind": "accounts",
        "category": "Deactivated accounts",
        "attributes": [],
        "subjects": 1,
        "period": "P30D",
        "policy_version": 1,
    }
    with vault.read_connection() as conn:  # expired accounts are erased as Art. 17 requests, receipts and all
        from app.erasure.status import request_status

        status = request_status(conn, request)
    assert (status.ground, status.origin, status.subjects) == ("retention", "retention", 1)
    assert evidence[1]["attributes"] == ["title", f"{ENTERPRISE}:department"]
    assert "example.test" not in json.dumps(evidence) and "Engineer" not in json.dumps(evidence)


def test_reactivation_stops_the_clock(vault: Vault) -> None:
    apply_policy(vault, default_policy_text(), "dpo")
    ids = seed(vault)
    service = ScimService(vault, "https://scim.test/scim/v2", EventBus(), PolicyInForce(vault))
    try:
        patch = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": True}],
        }
        assert service.patch("User", ids["left"], patch).status == 200
    finally:
        service.close()
    assert run_once(vault, PolicyInForce(vault), DEACTIVATED + timedelta(days=365)) != []  # only "left-recently"
    assert ids["left"] in documents(vault)


def test_disabled_job_purges_nothing(vault: Vault) -> None:
    apply_policy(
        vault,
        default_policy_text().replace("[retention_job]\nenabled = true", "[retention_job]\nenabled = false"),
        "dpo",
    )
    ids = seed(vault)
    assert run_once(vault, PolicyInForce(vault), DEACTIVATED + timedelta(days=365)) == []
    assert set(ids.values()) <= set(documents(vault))


def test_scheduler_runs_in_the_background(vault: Vault) -> None:
    apply_policy(vault, default_policy_text(), "dpo")
    scheduler = RetentionScheduler(vault, PolicyInForce(vault), interval=0.05, first_delay=0.0)
    scheduler.start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while scheduler.runs < 2 and datetime.now(UTC) < deadline:
            pass
    finally:
        scheduler.stop()
    assert scheduler.runs >= 2
    with vault.read_connection() as conn:
        assert len(of_kind(conn, "retention.run")) >= 2
