"""EDPB Guidelines 9/2022 (example 5): a controller is aware once its processor has informed it, so the 72-hour
clock cannot start later than the processor's notification. Before, an awareness recorded three days after the
processor's call let the deadline run three days late, and a notification two days past the real deadline read
"notified in time" (the register, the draft and the Art. 30 breach columns said so). Real vault, injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.cli import main
from app.incidents.register import IncidentError, IncidentRegister
from app.store.vault import Vault
from tests.conftest import PASSPHRASE
from tests.incidents.test_register import FRIDAY_9, FakeClock

CALL = FRIDAY_9 - timedelta(days=4)  # Monday 23 November 2026, 09:00 UTC: the payroll processor phones


def _incident(vault: Vault) -> tuple[IncidentRegister, int]:
    register = IncidentRegister(vault, FakeClock(FRIDAY_9 + timedelta(days=1)))
    incident = register.open_incident("Payroll processor lost a file", "dpo", detected_at=CALL)
    return register, incident


def test_awareness_after_the_processor_informed_the_controller_is_refused(vault: Vault) -> None:
    register, incident = _incident(vault)
    register.update(incident, "dpo", processor_notified_at=CALL, processor="PayrollCo")
    with pytest.raises(IncidentError, match="aware from then at the latest"):
        register.set_aware(incident, "dpo", "our own review confirmed it", at=CALL + timedelta(days=3))
    assert register.get(incident).aware_at is None  # nothing half-written

    view = register.set_aware(incident, "dpo", "the processor confirmed the file was lost", at=CALL)
    assert view.clock(FRIDAY_9).deadline == CALL + timedelta(hours=72)
    with pytest.raises(IncidentError, match="reasons for the delay"):
        register.notify(incident, "dpo", "SA-1", at=CALL + timedelta(days=5))  # late: no "in time" verdict
    view = register.notify(incident, "dpo", "SA-1", at=CALL + timedelta(days=5), delay_reason="waited for a report")
    assert view.clock(FRIDAY_9).state == "notified_late"


def test_a_processor_time_before_the_recorded_awareness_is_refused_until_awareness_is_corrected(
    vault: Vault,
) -> None:
    register, incident = _incident(vault)
    register.set_aware(incident, "dpo", "our own review confirmed it", at=CALL + timedelta(days=3))
    with pytest.raises(IncidentError, match="cannot start later"):
        register.update(incident, "dpo", processor_notified_at=CALL)
    register.set_aware(incident, "dpo", "the processor had phoned on Monday", at=CALL)  # a correction, with reason
    view = register.update(incident, "dpo", processor_notified_at=CALL)
    assert view.aware_anchor == CALL and view.processor_notified_at == CALL
    register.update(incident, "dpo", processor_notified_at=CALL + timedelta(hours=1), reason="the call log says 10:00")


def test_breach_aware_says_so_in_one_line(
    vault: Vault, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    register, incident = _incident(vault)
    register.update(incident, "dpo", processor_notified_at=CALL)
    folder = str(vault.path.parent)
    vault.close()
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    later = (CALL + timedelta(days=3)).isoformat()
    code = main(["breach", "aware", str(incident), "--reason", "review", "--at", later, "--data-dir", folder])
    assert code == 2
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert "The processor informed the controller at 2026-11-23 09:00:00 UTC" in line and captured.out == ""
