"""A target that is down (connection refused) and comes back: while it is down the Targets page shows the change
queued and why it waits; once everything got through, no error stands beside "0 queued, 0 failed" — the old
connection error used to stay in *Last error* for good, as if the target were still failing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from app.dsr.restriction import is_restricted
from app.services import health as health_check
from app.store.vault import Vault
from app.targets.dispatcher import Dispatcher
from app.targets.status import TargetHealth, health
from tests.erasure.support import person
from tests.targets.conftest import ScimTarget, wait_until
from tests.targets.support import Provisioning, provisioning


def _health(p: Provisioning) -> TargetHealth:
    with p.vault.read_connection() as conn:
        (target,) = health(conn, p.policy.get().policy)
    return target


def test_an_error_behind_the_target_is_not_its_last_error(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    (app1,) = scim_targets(1)
    p = provisioning(vault, [app1])
    try:
        app1.stop()
        p.service.create("User", person("outage-1@example.test"))
        wait_until(lambda: _health(p).last_error is not None)
        down = _health(p)
        assert (down.pending, down.failed, down.state) == (1, 0, "catching up")
        assert down.last_error is not None and down.last_error.startswith("POST failed: cannot connect to the target")

        app1.start()
        wait_until(lambda: len(app1.users()) == 1 and _health(p).pending == 0, timeout=20)
        back = _health(p)
        assert (back.pending, back.failed, back.last_error) == (0, 0, None)
        assert back.state == "not verified" and back.last_success is not None
    finally:
        p.close()


def test_health_warns_while_a_target_refuses_every_push(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    """Before: `custos health` said "targets ok: app1 catching up" (exit 0) for the quarter of an hour of retries
    before the first change gave up, while the target refused every connection."""
    (app1,) = scim_targets(1)
    p = provisioning(vault, [app1])
    try:
        app1.stop()
        p.service.create("User", person("outage-2@example.test"))
        wait_until(lambda: _health(p).last_error is not None)

        down = health_check.targets(vault)
        assert down.level == health_check.WARN
        assert down.text.startswith("to look at: app1 (catching up, retrying: POST failed: cannot connect")

        app1.start()
        wait_until(lambda: _health(p).pending == 0, timeout=20)
        assert health_check.targets(vault).level == health_check.OK
    finally:
        p.close()


def test_a_clock_stepped_back_does_not_hold_back_the_retries(
    vault: Vault, scim_targets: Callable[[int], list[ScimTarget]]
) -> None:
    """The wall clock set back an hour (an NTP correction, an operator) while a change waits for its retry. Before:
    the retry, timed on the old clock, came due an hour late, and every later change of that person with it."""
    (app1,) = scim_targets(1)
    p = provisioning(vault, [app1])
    offset = [timedelta(0)]
    p.dispatcher.stop()  # the same dispatcher, on a wall clock this test can step
    p.dispatcher = Dispatcher(
        vault, p.policy, restricted=is_restricted, poll_seconds=0.05, clock=lambda: datetime.now(UTC) + offset[0]
    )
    p.dispatcher.start()
    try:
        app1.stop()
        p.service.create("User", person("clock-1@example.test"))
        wait_until(lambda: _health(p).last_error is not None)  # the first attempt failed; a retry is timed

        offset[0] = -timedelta(hours=1)
        app1.start()

        wait_until(lambda: len(app1.users()) == 1 and _health(p).pending == 0, timeout=30)
    finally:
        p.close()
