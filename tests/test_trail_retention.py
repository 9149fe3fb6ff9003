"""The trail's own retention period enforced (app/trail_retention.py, decision 0055): by the hourly retention job and
``custos audit prune``, never past an unacknowledged SIEM entry or into an open incident's window, never on a trail
that does not verify; a real SQLCipher vault, the clock given."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import tomlkit
from sqlalchemy import text

from app import jobs, trail_retention
from app.audit.checkpoints import checkpoint_now
from app.audit.trail import Event, append
from app.audit.verify import verify_trail
from app.cli import main
from app.incidents.register import IncidentRegister
from app.policy.in_force import PolicyInForce
from app.policy.versions import default_policy_text
from app.siem import spool
from app.store.vault import Vault
from app.targets.policy_change import apply_policy
from tests.conftest import PASSPHRASE

T0 = datetime(2030, 1, 1, tzinfo=UTC)
LATER = T0 + timedelta(days=30)  # the clock of every run: entries timed T0 + minutes are past a period of P1D


def _with_period(vault: Vault, period: str | None) -> PolicyInForce:
    document = tomlkit.parse(default_policy_text())
    own = document["own_processing"]
    if period is None:
        del own["audit_trail"]  # type: ignore[union-attr]
    else:
        own["audit_trail"] = {"period": period, "justification": "Limitation period"}  # type: ignore[index]
    apply_policy(vault, tomlkit.dumps(document), "dpo")
    return PolicyInForce(vault)


def _entries(vault: Vault, n: int, start: datetime = T0) -> int:
    """``n`` entries a minute apart from ``start``, signed every 10 and at the end; the last seq."""
    with vault.write_transaction() as conn:
        for i in range(n):
            append(conn, Event("token.created", "operator:dpo", details={"i": i}, at=start + timedelta(minutes=i)))
            if (i + 1) % 10 == 0:
                checkpoint_now(conn)
        checkpoint_now(conn)
        return int(conn.execute(text("SELECT max(seq) FROM audit_events")).scalar_one())


def _first(vault: Vault) -> int:
    with vault.read_connection() as conn:
        return int(conn.execute(text("SELECT min(seq) FROM audit_events")).scalar_one())


def test_without_a_period_nothing_is_pruned(vault: Vault) -> None:
    policy = _with_period(vault, None)
    _entries(vault, 30)
    assert trail_retention.run(vault, policy, LATER) is None
    jobs.run_retention(vault, policy, LATER)
    assert _first(vault) == 1


def test_the_hourly_job_prunes_records_it_and_scrubs_the_wal(vault: Vault) -> None:
    policy = _with_period(vault, "P1D")
    last = _entries(vault, 30)
    jobs.run_retention(vault, policy, LATER)
    first = _first(vault)
    assert 1 < first <= last + 1  # the job's own entries, timed by its clock, are newer than the period
    with vault.read_connection() as conn:
        details = json.loads(
            conn.execute(text("SELECT details FROM audit_events WHERE kind = 'audit.pruned'")).scalar_one()
        )
        report = verify_trail(conn)
    assert details["last_seq"] == first - 1 and details["period"] == "P1D"
    assert report.ok, report.breaches
    assert report.pruned is not None and f"entries 1–{first - 1} pruned" in report.summary()
    _entries(vault, 30, start=T0 + timedelta(days=1))  # more entries past the period, signed
    jobs.run_retention(vault, policy, LATER + timedelta(hours=1))
    assert _first(vault) == first  # the hourly job prunes at most daily: the vault is rewritten each time
    jobs.run_retention(vault, policy, LATER + timedelta(days=1, hours=1))
    assert _first(vault) > first


def test_the_scrub_reaches_the_wal(vault: Vault) -> None:
    policy = _with_period(vault, "P1D")
    _entries(vault, 30)
    done = trail_retention.run(vault, policy, LATER)
    assert done is not None and done.record is not None and done.storage is not None
    assert done.storage.secure_delete and done.storage.wal_checkpointed and done.storage.wal_truncated


def test_an_unacknowledged_siem_entry_is_kept(vault: Vault) -> None:
    policy = _with_period(vault, "P1D")
    last = _entries(vault, 40)
    with vault.write_transaction() as conn:
        spool.advance(conn, "siem.example.org:6514", last - 25)
    done = trail_retention.run(vault, policy, LATER)
    assert done is not None and done.record is not None
    assert done.plan.last_seq <= last - 25 and _first(vault) == done.plan.last_seq + 1
    assert any("siem.example.org:6514" in hold.why for hold in done.plan.holds)


def test_an_open_incident_keeps_its_window_and_a_closed_one_does_not(vault: Vault) -> None:
    policy = _with_period(vault, "P1D")
    last = _entries(vault, 40)
    register = IncidentRegister(vault, now=lambda: LATER)
    register.open_incident("Token leaked", "dpo", occurred_from=T0 + timedelta(minutes=15), detected_at=LATER)
    planned = trail_retention.plan(vault, policy, LATER)
    assert planned is not None and planned.anchor is not None
    with vault.read_connection() as conn:
        at = conn.execute(text("SELECT at FROM audit_events WHERE seq = :s"), {"s": planned.last_seq + 1}).scalar_one()
    assert planned.last_seq < last and at <= "2030-01-01T00:15:00.000000Z"  # nothing of the window goes
    assert [hold.why.split(" (")[0] for hold in planned.holds] == ["incident 1 is not closed"]
    register.open_incident("No start known", "dpo", detected_at=LATER)
    held = trail_retention.plan(vault, policy, LATER)
    assert held is not None and held.anchor is None  # an open window without a start keeps every entry


def test_a_trail_that_does_not_verify_is_not_pruned(vault: Vault) -> None:
    policy = _with_period(vault, "P1D")
    _entries(vault, 30)
    with vault.write_transaction() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'operator:mallory' WHERE seq = 5"))
    done = trail_retention.run(vault, policy, LATER)
    assert done is not None and done.record is None and "does not verify" in done.refused
    assert _first(vault) == 1


def test_the_command_prints_what_it_would_remove_and_what_it_removed(
    vault: Vault, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_period(vault, "P1D")
    _entries(vault, 30)
    data_dir = vault.path.parent
    vault.close()
    run = trail_retention.run
    monkeypatch.setattr(trail_retention, "run", lambda v, p, now=None, dry_run=False: run(v, p, LATER, dry_run))
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)

    capsys.readouterr()
    assert main(["audit", "prune", "--dry-run", "--data-dir", str(data_dir)]) == 0
    dry = capsys.readouterr().out.splitlines()
    assert dry[0].startswith("Would remove entries 1–") and "up to the signed checkpoint at" in dry[0]
    assert main(["audit", "prune", "--data-dir", str(data_dir)]) == 0
    done = capsys.readouterr().out.splitlines()
    assert done[0].startswith("Removed entries 1–")  # a little further: each command signs its own opening
    assert any(line.startswith("Recorded: seq ") for line in done)
    assert any(line.startswith("Storage: secure_delete on, WAL checkpointed yes") for line in done)
    assert main(["audit", "verify", "--data-dir", str(data_dir)]) == 0
    verdict = capsys.readouterr().out
    assert "pruned under the retention period P1D on 2030-01-31" in verdict
    assert "Covered: entries 1–" not in verdict


def test_an_unanswered_access_request_keeps_the_persons_entries(vault: Vault) -> None:
    """The answer to an access request lists the trail's events about the person (the subject export): a prune
    between the request and its answer took some of them away."""
    from app.dsr.register import DsrRegister
    from tests.dsr.dsr_support import with_person

    person = with_person(vault, "kept.for.the.answer@example.org")
    policy = _with_period(vault, "P1D")
    _entries(vault, 40)
    register = DsrRegister(vault, now=lambda: LATER)
    request = register.open(["access"], "email", "dpo", LATER - timedelta(days=2), subject_id=person)
    with vault.read_connection() as conn:
        pseudonym = conn.execute(text("SELECT subject FROM dsr_requests WHERE id = :i"), {"i": request}).scalar_one()
        first = int(
            conn.execute(text("SELECT min(seq) FROM audit_events WHERE subject = :p"), {"p": pseudonym}).scalar_one()
        )
    held = trail_retention.plan(vault, policy, LATER)
    assert held is not None and held.last_seq < first
    assert [hold.why for hold in held.holds] == [f"request {request} is open: its answer lists the person's events"]
    register.refuse(request, "art12-5", "manifestly unfounded: the fifth identical request this month", "dpo")
    register.record_answer(request, "dpo", LATER.date(), [])
    freed = trail_retention.plan(vault, policy, LATER)
    assert freed is not None and freed.last_seq > first
