"""The timeline keeps two orders: nobody is aware of a breach before it began, and a processor's notice to the
controller is a detection, so the breach was detected by then at the latest. On main both were recorded as given
(aware at 09:00 of a breach that began at 12:00; detected a day after the processor had phoned). The checks must
not block what is legitimate: an estimated window widened, a breach still running after awareness, a record kept
before the checks edited in its other fields. Real vault, injected clock; the CLI in process."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.cli import main
from app.incidents.refusals import Order, TimeOrderRefused
from app.incidents.register import IncidentError, IncidentRegister
from app.incidents.tables import Incident
from app.store.vault import Vault
from tests.conftest import PASSPHRASE
from tests.incidents.test_register import FRIDAY_9, FakeClock

HOUR = timedelta(hours=1)


def _register(vault: Vault) -> IncidentRegister:
    return IncidentRegister(vault, FakeClock(FRIDAY_9 + timedelta(days=1)))


def _detected_before_it_began(vault: Vault, register: IncidentRegister) -> int:
    """Detected at 08:00, begun at 12:00: refused since, so only a vault from before that check holds it (written
    to the row here, as such a vault may hold it). Only there can awareness (at or after detection) still precede
    the start."""
    incident = register.open_incident("Misaddressed mail", "dpo", detected_at=FRIDAY_9 - HOUR)
    with vault.write_transaction() as conn:
        conn.execute(update(Incident.__table__).where(Incident.__table__.c.id == incident)
                     .values(occurred_from=FRIDAY_9 + 3 * HOUR))  # fmt: skip
    return incident


def test_a_detection_before_the_breach_began_is_refused_naming_both_times(vault: Vault) -> None:
    """Before: ``breach open --detected 08:00 --occurred-from 12:00`` was recorded as given, and so was an update
    to either time that put the detection before the start."""
    register = _register(vault)
    expected = ("The breach cannot have been detected (2026-11-27 08:00:00 UTC) before it began "
                "(2026-11-27 12:00:00 UTC)")  # fmt: skip
    with pytest.raises(IncidentError, match=re.escape(expected)):
        register.open_incident("Misaddressed mail", "dpo", detected_at=FRIDAY_9 - HOUR,
                               occurred_from=FRIDAY_9 + 3 * HOUR)  # fmt: skip
    assert register.list() == []
    incident = register.open_incident("Misaddressed mail", "dpo", detected_at=FRIDAY_9 - HOUR,
                                      occurred_from=FRIDAY_9 - 3 * HOUR)  # fmt: skip
    for change in ({"occurred_from": FRIDAY_9 + 3 * HOUR}, {"detected_at": FRIDAY_9 - 4 * HOUR}):
        with pytest.raises(IncidentError, match=r"cannot have been detected .* before it began"):
            register.update(incident, "dpo", "re-estimated", **change)
    view = register.get(incident)
    assert (view.detected_at, view.occurred_from) == (FRIDAY_9 - HOUR, FRIDAY_9 - 3 * HOUR)  # nothing written
    # Detected the moment it began is possible (an alert on the first request); so is a later window's end.
    view = register.update(incident, "dpo", "log read", occurred_from=FRIDAY_9 - HOUR, occurred_to=FRIDAY_9)
    assert view.occurred_from == view.detected_at
    # The open incident's other fields stay editable.
    assert register.update(incident, "dpo", title="Misaddressed letters").title == "Misaddressed letters"


def test_breach_open_and_update_refuse_a_detection_before_the_start_in_one_line(
    vault: Vault, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user trial's command: detected 05:00Z, occurred from 06:30Z."""
    folder = str(vault.path.parent)
    vault.close()
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    code = main(["breach", "open", "--title", "Lost USB stick", "--detected", "2026-11-27T05:00Z", "--occurred-from",
                 "2026-11-27T06:30Z", "--data-dir", folder])  # fmt: skip
    assert code == 2
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert "cannot have been detected (2026-11-27 05:00:00 UTC) before it began (2026-11-27 06:30:00 UTC)" in line
    assert captured.out == "" and "Traceback" not in captured.err
    assert main(["breach", "open", "--title", "Lost USB stick", "--detected", "2026-11-27T07:00Z", "--occurred-from",
                 "2026-11-27T06:30Z", "--data-dir", folder]) == 0  # fmt: skip
    capsys.readouterr()
    code = main(["breach", "update", "1", "--occurred-from", "2026-11-27T08:00Z", "--reason", "re-estimated",
                 "--data-dir", folder])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 2 and "(2026-11-27 07:00:00 UTC) before it began (2026-11-27 08:00:00 UTC)" in captured.err


def test_awareness_before_the_breach_began_is_refused_and_nothing_is_written(vault: Vault) -> None:
    register = _register(vault)
    incident = _detected_before_it_began(vault, register)
    with pytest.raises(IncidentError, match=r"cannot be aware .* before the breach began"):
        register.set_aware(incident, "dpo", "supplier confirmed receipt", at=FRIDAY_9)
    view = register.get(incident)
    assert view.aware_at is None and [e.name for e in view.history] == ["detected_at"]

    # The window was an estimate: widened (a correction with its reason), awareness is then recorded.
    register.update(incident, "dpo", "the mail server log shows it at 06:00", occurred_from=FRIDAY_9 - 3 * HOUR)
    view = register.set_aware(incident, "dpo", "supplier confirmed receipt", at=FRIDAY_9)
    assert view.aware_at == FRIDAY_9
    # A start given later than the awareness already recorded is refused (first for preceding the detection).
    with pytest.raises(IncidentError, match=r"cannot have been detected .* before it began"):
        register.update(incident, "dpo", "re-estimated", occurred_from=FRIDAY_9 + HOUR)
    # A breach still running after awareness is legitimate: only the window's start is checked.
    assert register.update(incident, "dpo", occurred_to=FRIDAY_9 + 5 * HOUR).occurred_to == FRIDAY_9 + 5 * HOUR


def test_a_detection_after_the_processor_s_notice_is_refused(vault: Vault) -> None:
    register = _register(vault)
    incident = register.open_incident("Payroll file lost", "dpo", detected_at=FRIDAY_9)
    with pytest.raises(IncidentError, match="detected by then at the latest"):
        register.update(incident, "dpo", processor_notified_at=FRIDAY_9 - timedelta(days=1))
    assert register.get(incident).processor_notified_at is None  # nothing half-written
    # Both corrected in one change (the detection had been taken as the time the incident was opened).
    view = register.update(incident, "dpo", "the processor phoned the day before", processor_notified_at=FRIDAY_9 -
                           timedelta(days=1), detected_at=FRIDAY_9 - timedelta(days=1, hours=2))  # fmt: skip
    assert view.detected_at < view.processor_notified_at
    with pytest.raises(IncidentError, match="detected by then at the latest"):
        register.update(incident, "dpo", "typo", detected_at=FRIDAY_9)


def test_a_record_kept_before_the_checks_stays_editable_in_its_other_fields(vault: Vault) -> None:
    register = _register(vault)
    incident = register.open_incident("Old record", "dpo", detected_at=FRIDAY_9)
    with vault.write_transaction() as conn:  # as a vault from before these checks may hold it
        conn.execute(update(Incident.__table__).where(Incident.__table__.c.id == incident)
                     .values(processor_notified_at=FRIDAY_9 - HOUR))  # fmt: skip
    assert register.update(incident, "dpo", title="Old record, renamed").title == "Old record, renamed"


def test_breach_aware_before_the_window_says_so_in_one_line(
    vault: Vault, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    register = _register(vault)
    incident = _detected_before_it_began(vault, register)
    folder = str(vault.path.parent)
    vault.close()
    monkeypatch.setenv("CUSTOS_PASSPHRASE", PASSPHRASE)
    code = main(["breach", "aware", str(incident), "--reason", "x", "--at", FRIDAY_9.isoformat(), "--data-dir",
                 folder])  # fmt: skip
    assert code == 2
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert "cannot be aware (2026-11-27 09:00:00 UTC) before the breach began (2026-11-27 12:00:00 UTC)" in line
    assert "--occurred-from" in line and captured.out == "" and "Traceback" not in captured.err


def test_subjects_informed_before_the_breach_was_detected_or_began_is_refused(vault: Vault) -> None:
    """Art. 34: the people are told of a breach someone knows of. 'Informed' a day before its detection (a date
    typed wrongly) used to be recorded as given, and the draft and the register then showed the people told
    before anyone knew."""
    register = _register(vault)
    incident = register.open_incident("Stolen laptop", "dpo", detected_at=FRIDAY_9,
                                      occurred_from=FRIDAY_9 - 2 * HOUR)  # fmt: skip
    with pytest.raises(IncidentError, match=r"told of the breach .* before it was detected"):
        register.inform_subjects(incident, "dpo", at=FRIDAY_9 - timedelta(days=1))
    assert register.get(incident).subjects_informed_at is None  # nothing written
    view = register.inform_subjects(incident, "dpo", at=FRIDAY_9 + 2 * HOUR)
    assert view.subjects_informed_at == FRIDAY_9 + 2 * HOUR
    # A detection corrected to after the communication is refused the same way; one before it is accepted.
    with pytest.raises(IncidentError, match="before it was detected"):
        register.update(incident, "dpo", "typo", detected_at=FRIDAY_9 + 3 * HOUR)
    assert register.update(incident, "dpo", "log read", detected_at=FRIDAY_9 + HOUR).detected_at == FRIDAY_9 + HOUR
    with pytest.raises(IncidentError, match="before it began"):
        register.update(incident, "dpo", "re-estimated", occurred_from=FRIDAY_9 + 150 * timedelta(minutes=1))


def test_every_refusal_of_two_times_out_of_order_names_both_to_the_second(vault: Vault) -> None:
    """Three refusals said only "cannot be aware before the incident was detected", "cannot be contained before it
    occurred" and "the occurrence window ends before it starts", while the others named their times: an operator
    whose local time was read as UTC could not see why a time that looked later was refused."""
    register = _register(vault)
    incident = register.open_incident("Misaddressed mail", "dpo", detected_at=FRIDAY_9,
                                      occurred_from=FRIDAY_9 - 3 * HOUR)  # fmt: skip
    refusals = {
        "aware": lambda: register.set_aware(incident, "dpo", "confirmed", at=FRIDAY_9 - HOUR),
        "contained": lambda: register.update(incident, "dpo", "", contained_at=FRIDAY_9 - 4 * HOUR),
        "window": lambda: register.update(incident, "dpo", "", occurred_to=FRIDAY_9 - 5 * HOUR),
    }
    said = {}
    for name, attempt in refusals.items():
        with pytest.raises(TimeOrderRefused) as refused:
            attempt()
        said[name] = refused.value.order.fact
    assert said == {
        "aware": "The controller cannot be aware (2026-11-27 08:00:00 UTC) before the incident was detected "
        "(2026-11-27 09:00:00 UTC)",
        "contained": "The incident cannot be contained (2026-11-27 05:00:00 UTC) before it occurred "
        "(2026-11-27 06:00:00 UTC)",
        "window": "The occurrence window ends (2026-11-27 04:00:00 UTC) before it starts (2026-11-27 06:00:00 UTC)",
    }


def test_a_refusal_names_its_times_in_the_register_s_terms_not_a_command_s(vault: Vault) -> None:
    """Before: the register's refusal named ``breach update --detected … --reason …`` and ``--occurred-from …``,
    and the app showed that in its dialogs, which have no options. Now it carries the two times, their values and
    what would fix it; its own message names the times as the register does, and no command or option."""
    register = _register(vault)
    with pytest.raises(TimeOrderRefused) as refused:
        register.open_incident("Misaddressed mail", "dpo", detected_at=FRIDAY_9 - HOUR,
                               occurred_from=FRIDAY_9 + 3 * HOUR)  # fmt: skip
    expected = Order("detected_before_start", "detected_at", FRIDAY_9 - HOUR, "occurred_from", FRIDAY_9 + 3 * HOUR,
                     ("detected_at", "occurred_from"), estimate="occurred_from")  # fmt: skip
    assert refused.value.order == expected
    assert refused.value.user_message == (
        "The breach cannot have been detected (2026-11-27 08:00:00 UTC) before it began (2026-11-27 12:00:00 UTC): "
        "correct Detected or Occurred (from), whichever is wrong."
    )
