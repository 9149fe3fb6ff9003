"""Erasure at real, independent SCIM servers (scim2-server): DELETE then read back, retries while a target is
down with no second DELETE to targets already done, deactivate-only and manual targets, targets never reached, and
a push still in flight when the erasure is requested."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.audit.trail import of_kind
from app.erasure.model import State
from app.erasure.requests import attest, request_erasure
from app.erasure.tables import ErasureExchange, ErasureRequest, ErasureStep
from app.erasure.worker import drive
from app.feed.tables import TargetLink
from app.store.vault import Vault
from tests.erasure.proxy import CountingProxy
from tests.erasure.support import TargetSpec, add_targets, counting_worker, dispatcher_for, person, service_for
from tests.targets.conftest import ScimTarget, wait_until


def _specs(apps: list[ScimTarget], **modes: str) -> list[TargetSpec]:
    return [TargetSpec(t.name, t.base_url, t.token, t.name, modes.get(t.name, "delete")) for t in apps]


def _provision(vault: Vault, apps: list[ScimTarget], user_names: list[str]) -> list[str]:
    service = service_for(vault)
    dispatcher = dispatcher_for(vault)
    try:
        ids = [str(service.create("User", person(name)).body["id"]) for name in user_names]  # type: ignore[index]
        wait_until(lambda: all(_held(vault, rid) == len(apps) for rid in ids))
    finally:
        dispatcher.stop()
        service.close()
    return ids


def _held(vault: Vault, resource_id: str) -> int:
    with vault.read_connection() as conn:
        return len(conn.execute(select(TargetLink.target_id).where(TargetLink.resource_id == resource_id)).all())


def _steps(vault: Vault, request_id: str) -> dict[str, dict[str, object]]:
    with vault.read_connection() as conn:
        rows = conn.execute(select(ErasureStep).where(ErasureStep.request_id == request_id)).mappings().all()
    return {str(row["target_name"]): dict(row) for row in rows}


def _user_names(target: ScimTarget) -> set[str]:
    return {str(user["userName"]) for user in target.users()}


def test_erase_everywhere_verified(vault: Vault, apps: list[ScimTarget]) -> None:
    add_targets(vault, _specs(apps))
    (rid,) = _provision(vault, apps, ["erase-1@example.test"])
    assert all("erase-1@example.test" in _user_names(t) for t in apps)

    request_id = request_erasure(vault, [rid], "art17-1b", "dpo", reason="withdrew consent")
    assert drive(vault, [request_id], timeout=20)

    assert all("erase-1@example.test" not in _user_names(t) for t in apps)
    by_target = _steps(vault, request_id)
    assert {name: row["state"] for name, row in by_target.items()} == {t.name: "succeeded" for t in apps}
    for row in by_target.values():
        assert row["method"] == "verified" and row["confirmed"] is not None
        assert row["resource_id"] is None and row["remote_id"] is None  # forgotten once resolved
    assert _held(vault, rid) == 0  # the links went with the resolved steps
    with vault.read_connection() as conn:
        exchanges = conn.execute(select(ErasureExchange.method, ErasureExchange.status, ErasureExchange.sha256)).all()
        request = conn.execute(select(ErasureRequest).where(ErasureRequest.id == request_id)).mappings().one()
        closed = of_kind(conn, "erasure.closed")
    assert sorted((m, s) for m, s, _ in exchanges) == sorted([("DELETE", 204), ("GET", 404)] * 3)
    assert all(len(digest) == 64 for _, _, digest in exchanges)
    assert request["state"] == "closed" and closed[0].details["complete"] is True
    facts = json.loads(request["local_facts"])
    assert facts["rows_deleted"] > 1 and facts["storage"]["vacuumed"] and facts["storage"]["wal_truncated"]


def test_stopped_target_retries_then_succeeds_without_duplicate_deletes(vault: Vault, apps: list[ScimTarget]) -> None:
    add_targets(vault, _specs(apps))
    rids = _provision(vault, apps, ["erase-2a@example.test", "erase-2b@example.test"])
    app2 = apps[1]
    app2.stop()
    counts: dict[tuple[str, str], int] = {}
    worker = counting_worker(vault, counts, poll_seconds=0.05)
    try:
        request_id = request_erasure(vault, rids, "art17-1a", "dpo")
        worker.start()
        # app1 and app3 done, app2 (both subjects) failed and waiting for its next attempt
        wait_until(lambda: sorted(_states(vault, request_id)) == ["failed"] * 2 + ["succeeded"] * 4)
        app2.start()  # comes back empty: the accounts are gone, GET answers 404
        wait_until(lambda: _states(vault, request_id).count("succeeded") == 6, timeout=30)
    finally:
        worker.stop()
    assert counts[("app1", "DELETE")] == 2 and counts[("app3", "DELETE")] == 2  # once per subject, never again
    with vault.read_connection() as conn:
        attempts = conn.execute(select(ErasureStep.attempts).where(ErasureStep.target_name == "app2")).scalars().all()
    assert all(a >= 2 for a in attempts)


def _states(vault: Vault, request_id: str) -> list[str]:
    with vault.read_connection() as conn:
        return list(conn.execute(select(ErasureStep.state).where(ErasureStep.request_id == request_id)).scalars())


def test_deactivate_only_and_manual_targets(vault: Vault, apps: list[ScimTarget]) -> None:
    add_targets(vault, _specs(apps, app2="deactivate", app3="manual"))
    (rid,) = _provision(vault, apps, ["erase-3@example.test"])
    request_id = request_erasure(vault, [rid], "art17-1a", "dpo")
    assert not drive(vault, [request_id], timeout=1.5)  # stays open: the manual target waits for an operator

    by_target = _steps(vault, request_id)
    assert by_target["app1"]["state"] == State.SUCCEEDED
    assert by_target["app2"]["state"] == State.DEPROVISIONED_NOT_ERASED  # never reported as erased
    assert [u.get("active") for u in apps[1].users() if u["userName"] == "erase-3@example.test"] == [False]
    assert by_target["app3"]["state"] == State.WAITING_MANUAL
    assert "erase-3@example.test" in _user_names(apps[2])  # a manual target is not touched

    assert attest(vault, request_id, "app3", "alice", "Deleted in the app3 admin console") == 1
    assert drive(vault, [request_id], timeout=5)
    app3 = _steps(vault, request_id)["app3"]
    assert app3["state"] == State.SUCCEEDED and app3["method"] == "attested"
    assert app3["attested_by"] == "alice" and app3["attestation_note"] == "Deleted in the app3 admin console"
    with vault.read_connection() as conn:
        closed = of_kind(conn, "erasure.closed")[0]
    assert closed.details["complete"] is False  # app2 only deprovisioned


def test_a_target_that_never_held_the_subject_is_skipped(vault: Vault, apps: list[ScimTarget]) -> None:
    add_targets(vault, _specs(apps))
    (rid,) = _provision(vault, apps, ["erase-4@example.test"])
    with vault.write_transaction() as conn:
        conn.execute(TargetLink.__table__.delete().where(TargetLink.target_id == 1))
    request_id = request_erasure(vault, [rid], "art17-1a", "dpo")
    assert drive(vault, [request_id], timeout=10)
    app1 = _steps(vault, request_id)["app1"]
    assert app1["state"] == State.SKIPPED and "never received" in str(app1["reason"])


def test_an_erasure_requested_while_its_push_is_in_flight_follows_the_push_at_once(
    vault: Vault, apps: list[ScimTarget], proxy: CountingProxy
) -> None:
    """The target has created the account, the dispatcher has not recorded it yet (the answer is on its way): the
    erasure's step waits for that push, and goes on as soon as it is recorded. It used to wait the whole grace
    period (20 s) whatever happened: under a loaded machine the tombstone test hit this moment and timed out."""
    add_targets(vault, [TargetSpec("app1", f"{proxy.base_url}/v2", apps[0].token, "app1")])
    service, dispatcher = service_for(vault), dispatcher_for(vault)
    try:
        proxy.hold_methods.add("POST")  # carried out at the target; the answer waits
        rid = str(service.create("User", person("in-flight@example.test")).body["id"])  # type: ignore[index]
        wait_until(lambda: "in-flight@example.test" in _user_names(apps[0]))
        request_id = request_erasure(vault, [rid], "art17-1b", "dpo")
        assert _steps(vault, request_id)["app1"]["reason"] == "waiting for a push that may be in flight"
        proxy.release()  # the push's answer arrives; the dispatcher records the link
        assert drive(vault, [request_id], timeout=10), _steps(vault, request_id)["app1"]["state"]
    finally:
        dispatcher.stop()
        service.close()
    assert "in-flight@example.test" not in _user_names(apps[0])
    assert _steps(vault, request_id)["app1"]["state"] == State.SUCCEEDED
    assert proxy.received["DELETE"] == 1


def test_a_push_that_reaches_the_target_after_the_erasure_does_not_bring_the_account_back(
    vault: Vault, apps: list[ScimTarget], proxy: CountingProxy
) -> None:
    """A change pushed as the subject is erased: the erasure deletes the account at the target, then the push's PUT
    arrives and is answered 404. The push used to take that 404 for an account lost at the target and create it
    again — the erased person back at the recipient, after the receipt said erased there. It now sees that the
    subject is no longer in the mirror and does nothing."""
    add_targets(vault, [TargetSpec("app1", f"{proxy.base_url}/v2", apps[0].token, "app1")])
    service, dispatcher = service_for(vault), dispatcher_for(vault)
    try:
        rid = str(service.create("User", person("late-push@example.test")).body["id"])  # type: ignore[index]
        wait_until(lambda: _held(vault, rid) == 1)
        proxy.hold_before.add("PUT")
        pushed = dispatcher.pushed
        service.patch("User", rid, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                    "Operations": [{"op": "replace", "path": "title", "value": "Lead"}]})  # fmt: skip
        wait_until(lambda: proxy.waiting["PUT"] == 1)  # the push is on its way
        request_id = request_erasure(vault, [rid], "art17-1a", "dpo")
        assert drive(vault, [request_id], timeout=10)
        assert "late-push@example.test" not in _user_names(apps[0])
        proxy.release()  # the push arrives after the erasure
        wait_until(lambda: dispatcher.pushed > pushed)
    finally:
        dispatcher.stop()
        service.close()
    assert proxy.received["PUT"] == 1 and proxy.received["POST"] == 1  # the first create only
    assert "late-push@example.test" not in _user_names(apps[0])
    assert _steps(vault, request_id)["app1"]["state"] == State.SUCCEEDED
