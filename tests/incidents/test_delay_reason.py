"""Art. 33(1): a notification later than 72 hours after awareness is accompanied by the reasons for the delay.
Past the deadline the draft has a section for them (the recorded reasons, or a marked gap the DPO must fill) and
the completeness check lists them; never silently left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.incidents import draft
from app.incidents.completeness import DELAY_REASON, still_to_record
from app.incidents.register import IncidentRegister
from app.policy.in_force import PolicyInForce
from app.policy.model import NEEDS_HUMAN
from app.store.vault import Vault
from tests.cli.inprocess import run
from tests.incidents.test_register import FRIDAY_9, FakeClock

HEADING = "## Reasons for delay (Art. 33(1))\n\n"


def _aware_incident(vault: Vault, now: FakeClock) -> tuple[IncidentRegister, int]:
    register = IncidentRegister(vault, now)
    incident = register.open_incident("Lost laptop", "dpo", detected_at=FRIDAY_9 - timedelta(hours=1))
    register.set_aware(incident, "dpo", "the laptop held the payroll export", at=FRIDAY_9)
    return register, incident


def test_an_overdue_draft_asks_for_the_reasons_for_the_delay(vault: Vault) -> None:
    now = FakeClock(FRIDAY_9 + timedelta(hours=80))
    register, incident = _aware_incident(vault, now)
    policy = PolicyInForce(vault).get().policy
    view = register.get(incident)
    text = draft.markdown(view, policy, now(), "v1")
    assert f"{HEADING}{NEEDS_HUMAN}: the notification is later than 72 hours after awareness" in text
    assert DELAY_REASON in still_to_record(view.fields, view.clock(now()).state)

    view = register.update(incident, "dpo", delay_reason="the laptop's contents were unknown until Monday")
    text = draft.markdown(view, policy, now(), "v1")
    assert f"{HEADING}the laptop's contents were unknown until Monday\n" in text
    assert DELAY_REASON not in still_to_record(view.fields, view.clock(now()).state)


def test_before_the_deadline_the_draft_says_why_no_reasons_are_needed(vault: Vault) -> None:
    now = FakeClock(FRIDAY_9 + timedelta(hours=10))
    register, incident = _aware_incident(vault, now)
    view = register.get(incident)
    text = draft.markdown(view, PolicyInForce(vault).get().policy, now(), "v1")
    assert f"{HEADING}Not needed if notified by 2026-11-30 09:00 UTC; after that" in text
    assert DELAY_REASON not in still_to_record(view.fields, view.clock(now()).state)
    register.notify(incident, "dpo", "SA-1", at=FRIDAY_9 + timedelta(hours=9))
    text = draft.markdown(register.get(incident), PolicyInForce(vault).get().policy, now(), "v1")
    assert f"{HEADING}Not needed: notified within 72 hours of awareness" in text


@pytest.mark.usefixtures("vault_file")
def test_the_cli_lists_and_records_the_reasons(data_dir: Path, tmp_path: Path) -> None:
    aware = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=4)
    detected = aware - timedelta(hours=1)
    run(data_dir, "breach", "open", "--title", "Lost laptop", "--detected", f"{detected:%Y-%m-%dT%H:%MZ}")
    run(data_dir, "breach", "aware", "1", "--reason", "confirmed", "--at", f"{aware:%Y-%m-%dT%H:%MZ}")
    shown = run(data_dir, "breach", "show", "1").stdout
    assert DELAY_REASON in shown
    updated = run(data_dir, "breach", "update", "1", "--delay-reason", "forensics took four days")
    assert updated.returncode == 0, updated.stderr
    assert DELAY_REASON not in run(data_dir, "breach", "show", "1").stdout
    run(data_dir, "breach", "draft", "1", "--out", str(tmp_path))
    assert f"{HEADING}forensics took four days\n" in (tmp_path / "incident-1-notification.md").read_text()
