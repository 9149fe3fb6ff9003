"""The daily check of each target against a real scim2-server: a reconcile without repair, only when the
bookkeeping is clean, at most once a day per target (decision 0036)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from app.audit.trail import of_kind
from app.feed import outbox
from app.services import health as health_check
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


def test_a_target_the_daily_check_cannot_reach_is_not_ok_for_days(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    """A quiet target, checked clean, then down: the daily check failed every day (logged by its type only), and
    `custos health` said "ok: app1 in sync" for as long as it stayed down, while decision 0036 holds "in sync" to
    about a day old. After a day missed, health warns and says how old the check is."""
    (app1,) = scim_targets(1)
    p = provisioning(vault, [app1])
    try:
        p.service.create("User", person("quiet@example.test"))
        wait_until(lambda: _state(p) == "not verified")
        now = datetime.now(UTC)
        assert verify_due(vault, p.policy, now) == ["app1"] and _state(p) == "in sync"
        app1.stop()
        for days in (1, 2, 3):  # the job comes back daily, and cannot reach it
            assert verify_due(vault, p.policy, now + timedelta(days=days, minutes=1)) == []
        assert _targets_line(vault, now + timedelta(hours=23)).level == health_check.OK  # checked today
        later = _targets_line(vault, now + timedelta(days=3, minutes=1))
        assert later.level == health_check.WARN
        assert later.text == ("to look at: app1 (in sync, last checked at the target 3 days ago: the daily check has "
                              "not run since)")  # fmt: skip
    finally:
        p.close()


def _targets_line(vault: Vault, now: datetime) -> health_check.Check:
    """The `targets` line of `custos health` run at ``now``."""
    return next(check for check in health_check.check_all(vault, now) if check.name == "targets")
