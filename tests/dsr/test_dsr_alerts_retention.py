"""Deadline alerts on the trail (7 days, 1 day, passed) with a fake clock, and the register's own retention."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import select

from app.audit.trail import of_kind
from app.dsr.alerts import DeadlineAlertJob, check_deadlines
from app.dsr.tables import DsrRequest
from app.jobs import run_retention as run_once
from app.policy.in_force import PolicyInForce
from app.siem.mapping import describe
from app.store.vault import Vault
from tests.dsr.dsr_support import REQUESTER, register_at, sealed_details, with_person

RECEIVED = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)  # due Monday 2 March 2026 (London)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_alerts_seven_days_one_day_and_passed_once_each(vault: Vault) -> None:
    with_person(vault)
    register, _ = register_at(vault)
    request_id = register.open(["access"], "email", "dpo", RECEIVED, private=sealed_details())
    assert check_deadlines(vault, at("2026-02-22T12:00+00:00")) == []  # 8 days left
    first = check_deadlines(vault, at("2026-02-23T08:00+00:00"))
    assert [(a.request_id, a.marker, a.days_left) for a in first] == [(request_id, "7d", 7)]
    assert check_deadlines(vault, at("2026-02-23T20:00+00:00")) == []  # raised once
    assert [a.marker for a in check_deadlines(vault, at("2026-03-01T09:00+00:00"))] == ["1d"]
    assert check_deadlines(vault, at("2026-03-02T23:30+00:00")) == []  # the due day itself is still in time
    passed = check_deadlines(vault, at("2026-03-03T00:30+00:00"))
    assert [(a.marker, a.days_left) for a in passed] == [("passed", -1)]
    assert check_deadlines(vault, at("2026-03-09T00:30+00:00")) == []
    with vault.read_connection() as conn:
        alerts = list(reversed(of_kind(conn, "alert.raised")))
    assert [a.details["marker"] for a in alerts] == ["7d", "1d", "passed"]
    assert all(a.details["rule"] == "dsr_deadline" and a.details["request"] == request_id for a in alerts)
    assert REQUESTER not in json.dumps([a.details for a in alerts])
    described = describe(alerts[-1])  # as the SIEM forwarder names it
    assert described.signature == "anomaly.dsr_deadline" and "Art. 12(3)" in described.name


def test_after_a_pause_only_the_most_urgent_alert_and_an_extension_starts_again(vault: Vault) -> None:
    with_person(vault)
    register, _ = register_at(vault)
    request_id = register.open(["access"], "email", "dpo", RECEIVED)
    assert [a.marker for a in check_deadlines(vault, at("2026-03-01T09:00+00:00"))] == ["1d"]  # not 7d as well
    register.extend(request_id, 1, "search of archived mailboxes", date(2026, 2, 9), "dpo")  # due 31 March
    assert check_deadlines(vault, at("2026-03-05T09:00+00:00")) == []
    assert [a.due for a in check_deadlines(vault, at("2026-03-24T09:00+00:00"))] == ["2026-03-31"]
    register.refuse(request_id, "art12-5", "fourth identical request this month", "dpo")
    register.record_answer(request_id, "dpo", date(2026, 2, 10), [])
    assert check_deadlines(vault, at("2026-04-10T09:00+00:00")) == []


def test_the_periodic_job_uses_its_clock(vault: Vault) -> None:
    with_person(vault)
    register, _ = register_at(vault)
    register.open(["access"], "email", "dpo", RECEIVED)
    job = DeadlineAlertJob(vault, interval=0.05, first_delay=0, clock=lambda: at("2026-03-04T09:00+00:00"))
    job.start()
    try:
        import time

        deadline = time.monotonic() + 5
        while job.runs == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        job.stop()
    with vault.read_connection() as conn:
        assert [a.details["marker"] for a in of_kind(conn, "alert.raised")] == ["passed"]


def test_closed_requests_are_deleted_after_three_years_by_the_retention_job(vault: Vault) -> None:
    with_person(vault)
    register, _clock = register_at(vault)
    old = register.open(["not_gdpr"], "email", "dpo", RECEIVED, private=sealed_details())
    register.record_answer(old, "dpo", date(2026, 2, 2), [])
    register.close(old, "dpo")  # closed 10 February 2026
    still_open = register.open(["access"], "email", "dpo", RECEIVED)
    policy = PolicyInForce(vault)
    run_once(vault, policy, at("2029-02-09T09:00+00:00"))
    assert {v.id for v in register.list()} == {old, still_open}  # a day short of three years
    run_once(vault, policy, at("2029-02-10T09:00+00:00"))
    assert [v.id for v in register.list()] == [still_open]
    with vault.read_connection() as conn:
        purged = of_kind(conn, "dsr.purged")
        assert conn.execute(select(DsrRequest.__table__.c.id).where(DsrRequest.__table__.c.id == old)).first() is None
    assert [p.details["request"] for p in purged] == [old] and purged[0].details["retention"] == "P3Y"


def test_a_broken_settings_file_does_not_stop_the_retention_job(vault: Vault, caplog: object) -> None:
    with_person(vault)
    register, _ = register_at(vault)
    old = register.open(["not_gdpr"], "email", "dpo", RECEIVED)
    register.record_answer(old, "dpo", date(2026, 2, 2), [])
    register.close(old, "dpo")
    (vault.path.parent / "requests.toml").write_text("retention = [", encoding="utf-8")
    run_once(vault, PolicyInForce(vault), at("2029-02-11T09:00+00:00"))  # the default three years hold
    assert register.list() == []
