"""The notification draft says why a time is absent: not recorded (nobody entered it), not closed yet, or no
deadline because no awareness is recorded; "—" told none of these apart."""

from __future__ import annotations

from datetime import timedelta

from app.incidents import draft
from app.incidents.register import IncidentRegister
from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from tests.incidents.test_register import FRIDAY_9, FakeClock


def test_absent_times_say_why(vault: Vault) -> None:
    now = FakeClock(FRIDAY_9 + timedelta(hours=1))
    register = IncidentRegister(vault, now)
    incident = register.open_incident("Lost laptop", "dpo", detected_at=FRIDAY_9)
    text = draft.markdown(register.get(incident), PolicyInForce(vault).get().policy, now(), "v1")
    assert "**Contained:** not recorded" in text
    assert "**Occurred:** not recorded – not recorded" in text
    assert "**Closed:** not closed yet" in text
    assert "**Deadline (aware + 72 h):** not started: no awareness recorded" in text
    assert "—\n" not in text and ":** —" not in text
