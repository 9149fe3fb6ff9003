"""Every event type lives in app/core/events.py and is published on the vault's bus by whoever commits (0025)."""

from __future__ import annotations

import typing
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from app.core import events
from app.core.events import OutboxQueued, PolicyApplied, ResourcesChanged, RetentionPurged
from app.erasure.requests import request_erasure
from app.erasure.retention import run_once
from app.feed import outbox
from app.feed.tables import Target
from app.jobs import BackgroundJobs
from app.policy.in_force import PolicyInForce
from app.policy.versions import default_policy_text
from app.scim import damage
from app.siem import alerts
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from tests.policy.test_retention import DEACTIVATED, seed


def _recording(vault: Vault) -> list[object]:
    seen: list[object] = []
    vault.events.subscribe(seen.append)
    return seen


def test_every_published_type_is_declared_in_core_events() -> None:
    declared = set(typing.get_args(events.Event))
    assert alerts.AlertRaised is events.AlertRaised and damage.AlertRaised is events.AlertRaised
    assert {events.ResourcesChanged, events.RequestServed, events.AlertRaised, PolicyApplied, RetentionPurged,
            OutboxQueued} == declared  # fmt: skip


def test_a_policy_apply_publishes_after_its_commit_without_being_given_a_bus(vault: Vault) -> None:
    seen = _recording(vault)
    record, _ = apply_policy(vault, default_policy_text(), "dpo")
    assert seen == [PolicyApplied(record.version, 0, 0)]
    apply_policy(vault, default_policy_text(), "dpo")  # unchanged: nothing committed, nothing published
    assert len(seen) == 1


def test_retention_and_erasure_publish_what_they_committed(vault: Vault) -> None:
    apply_policy(vault, default_policy_text(), "dpo")
    ids = seed(vault)
    seen = _recording(vault)
    run_once(vault, PolicyInForce(vault), DEACTIVATED + timedelta(days=6))
    assert seen == []  # nothing purged, nothing said
    run_once(vault, PolicyInForce(vault), DEACTIVATED + timedelta(days=31))
    assert RetentionPurged(1, 2) in seen  # employment data of both deactivated accounts
    assert ResourcesChanged("User", deleted=(ids["left"],)) in seen  # the expired account, erased
    seen.clear()
    request_erasure(vault, [ids["stays"]], "art17-1a", "dpo")  # no bus given: the vault's bus hears it
    assert seen == [ResourcesChanged("User", deleted=(ids["stays"],))]


def test_the_jobs_wake_for_committed_work_and_only_for_it(vault: Vault) -> None:
    """The dispatcher is woken by outbox items this process committed (a policy apply, a repair, a SCIM write
    alike) or by an explicit OutboxQueued; a commit that queued nothing wakes nobody (decision 0031)."""
    jobs = BackgroundJobs(vault, PolicyInForce(vault))
    woken: list[str] = []
    jobs.dispatcher.wake = lambda: woken.append("dispatcher")  # type: ignore[method-assign]  # observe the wake
    jobs.erasure.wake = lambda: woken.append("erasure")  # type: ignore[method-assign]
    try:
        apply_policy(vault, default_policy_text(), "dpo")  # no target: nothing queued
        vault.events.publish(ResourcesChanged("User", deleted=("x",)))  # said, but no erasure step was committed
        assert woken == []
        with vault.write_transaction() as conn:
            conn.execute(
                insert(Target.__table__).values(
                    name="wiki", base_url="https://t.example/scim/v2", recipient_id="r", auth_kind="none",
                    created=datetime.now(UTC),
                )
            )
            outbox.enqueue(conn, "User", "someone", "upsert")
        assert woken == ["dispatcher"]
        vault.events.publish(OutboxQueued("wiki", 3))
        assert woken == ["dispatcher", "dispatcher"]
    finally:
        jobs.stop()
