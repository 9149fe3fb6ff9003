"""The daily check of each target against a real scim2-server: a reconcile without repair, only when the
bookkeeping is clean, at most once a day per target (decision 0036)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from app.audit.trail import of_kind
from app.feed import outbox
from app.store.vault import Vault
from app.targets.status import health
from app.targets.verify_job import VerificationJob, verify_due
from tests.erasure.support import person
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.support import Provisioning, provisioning


def _state(p: Provisioning) -> str:
    with p.vault.read_connection() as conn:
        (target,) = health(conn, p.policy.get().policy)
    return target.state


def test_targets_are_verified_daily_without_repair(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    (app1,) = scim_targets(1)
    p = provisioning(vault, [app1])
    try:
        for number in range(2):
            p.service.create("User", person(f"daily-{number}@example.test"))
        wait_until(lambda: _state(p) == "not verified")
        now = datetime.now(UTC)
        assert verify_due(vault, p.policy, now) == ["app1"] and _state(p) == "in sync"
        assert verify_due(vault, p.policy, now) == []  # checked a moment ago: not due again today

        with app1.client() as http:  # an account deleted at the target itself
            http.delete(f"/Users/{app1.users()[0]['id']}")
        job = VerificationJob(
            vault, p.policy, interval=0.05, first_delay=0, clock=lambda: now + timedelta(days=1, minutes=1)
        )
        job.start()
        try:
            deadline = time.monotonic() + 15
            while job.runs == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            job.stop()
        assert _state(p) == "drift"
        with vault.read_connection() as conn:
            entry = of_kind(conn, "target.reconciled")[0]
            queued = outbox.stats(conn, 1)
        assert entry.actor == "system:verify" and entry.details["missing"] == 1 and not entry.details["repaired"]
        assert queued.pending == 0  # nothing pushed: what to do about drift is the operator's decision
    finally:
        p.close()


def test_a_drifted_target_is_not_checked_while_pushes_are_on_their_way(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    (app1,) = scim_targets(1)
    p = provisioning(vault, [app1])
    try:
        p.service.create("User", person("drifted-0@example.test"))
        wait_until(lambda: _state(p) == "not verified")
        with app1.client() as http:  # an account deleted at the target itself
            http.delete(f"/Users/{app1.users()[0]['id']}")
        now = datetime.now(UTC)
        assert verify_due(vault, p.policy, now) == ["app1"] and _state(p) == "drift"

        p.dispatcher.stop()  # a change from the IdP, queued and not pushed yet
        p.service.create("User", person("drifted-1@example.test"))
        with vault.read_connection() as conn:
            assert outbox.stats(conn, 1).pending == 1
        # the bookkeeping is not clean: a check now would count the queued subject as drift too
        assert verify_due(vault, p.policy, now + timedelta(days=2)) == []
    finally:
        p.close()
