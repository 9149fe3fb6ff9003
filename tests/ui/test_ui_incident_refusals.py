"""The register's refusals in the app, said with the dialog's own labels (or the page's buttons), never the
command line's options. Before, the time dialog said "correct the detection (breach update --detected … --reason
…) or … (--occurred-from …)": options a DPO at a dialog has no way to give. Real vault, injected clock, offscreen."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from PySide6.QtCore import QDateTime
from pytestqt.qtbot import QtBot

from app.incidents.register import IncidentRegister
from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from app.ui.incidents.awareness import AwarenessDialog
from app.ui.incidents.steps import CommunicationDialog
from app.ui.incidents.time_dialog import TimeChange, TimeDialog
from app.ui.incidents.view import IncidentsPage
from tests.incidents.test_register import FRIDAY_9, FakeClock

HOUR = timedelta(hours=1)


def _set(edit: object, moment: datetime) -> None:
    edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(moment.timestamp())))  # type: ignore[attr-defined]


def _speaks_no_command(text: str) -> None:
    assert not re.search(r"--[a-z]|breach (aware|update|inform|notify|close|show)|custos", text), text


def _register(vault: Vault) -> tuple[IncidentRegister, FakeClock]:
    now = FakeClock(FRIDAY_9 + 30 * HOUR)
    return IncidentRegister(vault, now), now


def test_the_time_dialog_names_its_own_fields(qtbot: QtBot, vault: Vault) -> None:
    register, now = _register(vault)
    incident = register.open_incident("Lost laptop", "dpo", detected_at=FRIDAY_9 - HOUR)
    dialog = TimeDialog(register.get(incident), now())
    qtbot.addWidget(dialog)
    dialog.which.setCurrentText("Occurred (from)")
    _set(dialog.when, FRIDAY_9 - HOUR / 2)  # after the detection (08:00)

    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert not ok.isEnabled()
    assert dialog.time_problem.text() == (
        "The breach cannot have been detected (2026-11-27 08:00:00 UTC) before it began (2026-11-27 08:30:00 UTC): "
        "correct Detected (choose “Detected” under “Time”) or change “At (local time)”, whichever is wrong. If the "
        "start is an estimate, give in “At (local time)” the earliest time the breach may have begun."
    )
    _speaks_no_command(dialog.time_problem.text())


def test_the_awareness_dialog_names_its_time_and_the_page_s_button_for_the_other(qtbot: QtBot, vault: Vault) -> None:
    """The processor told the controller at 09:00: awareness at 10:00 would start the clock late."""
    register, now = _register(vault)
    incident = register.open_incident("Processor's leak", "dpo", detected_at=FRIDAY_9 - HOUR)
    register.update(incident, "dpo", processor_notified_at=FRIDAY_9)
    dialog = AwarenessDialog(register.get(incident), now())
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.reason, "the processor's report read")
    _set(dialog.when, FRIDAY_9 + HOUR)

    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert not ok.isEnabled()
    assert dialog.time_problem.text() == (
        "The processor informed the controller at 2026-11-27 09:00:00 UTC: the controller is aware from then at the "
        "latest (EDPB Guidelines 9/2022), so the 72-hour clock cannot start later: change “Aware at (local time)” "
        "or correct Processor notified the controller (“Record or correct a time…”), whichever is wrong."
    )
    _speaks_no_command(dialog.time_problem.text())
    _set(dialog.when, FRIDAY_9)
    assert ok.isEnabled() and not dialog.time_problem.text()


def test_the_communication_dialog_refuses_a_time_before_the_detection_before_it_closes(
    qtbot: QtBot, vault: Vault
) -> None:
    """Before: the dialog closed, the typed reasoning was lost, and the page said "(breach inform --at … --reason
    …)". Now OK waits and the dialog says why, with its own label."""
    register, now = _register(vault)
    incident = register.open_incident("Lost laptop", "dpo", detected_at=FRIDAY_9)
    dialog = CommunicationDialog(register.get(incident), now())
    qtbot.addWidget(dialog)
    _set(dialog.when, FRIDAY_9 - HOUR)

    assert not dialog.ok_button.isEnabled()
    assert dialog.time_problem.text() == (
        "The data subjects cannot have been told of the breach (2026-11-27 08:00:00 UTC) before it was detected "
        "(2026-11-27 09:00:00 UTC): change “Informed at (local time)” or correct Detected (“Record or correct a "
        "time…”), whichever is wrong."
    )
    _set(dialog.when, FRIDAY_9 + HOUR)
    assert dialog.ok_button.isEnabled() and not dialog.time_problem.text()


def test_a_refusal_that_reaches_the_page_names_its_buttons(qtbot: QtBot, vault: Vault) -> None:
    """Closing a breach assessed "no risk" and never notified, with no rationale: the register refuses; the page
    said "(--rationale)"."""
    register, now = _register(vault)
    incident = register.open_incident("Misdirected mail", "dpo", detected_at=FRIDAY_9)
    register.assess(incident, "dpo", "none", "encrypted envelope contents")
    page = IncidentsPage(vault, PolicyInForce(vault), now=now)
    qtbot.addWidget(page)
    page.run_dialog = lambda _dialog: True  # OK with the rationale left empty
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    page.table.selectRow(0)

    page.close_incident()

    expected = ("Not notified: record why the breach is unlikely to result in a risk (the “Rationale” of "
                "“Close…”).")  # fmt: skip
    qtbot.waitUntil(lambda: page.summary.text() == expected, timeout=5000)
    # The buttons the app's words name are the page's own.
    assert [b.text().replace("&", "") for b in (page.close_button, page.time_button, page.delay_button)] == [
        "Close…", "Record or correct a time…", "Reasons for delay…"]  # fmt: skip
    page.hide()


def test_a_late_notification_time_names_the_reasons_for_delay_button(qtbot: QtBot, vault: Vault) -> None:
    """Correcting the initial notification to past the deadline, with no reasons for the delay recorded: the page
    said "(--delay-reason)"; now the button that records them."""
    now = FakeClock(FRIDAY_9 + 100 * HOUR)
    register = IncidentRegister(vault, now)
    incident = register.open_incident("Lost laptop", "dpo", detected_at=FRIDAY_9 - HOUR)
    register.set_aware(incident, "dpo", "confirmed", at=FRIDAY_9)
    register.notify(incident, "dpo", "SA-1", at=FRIDAY_9 + 20 * HOUR)
    page = IncidentsPage(vault, PolicyInForce(vault), now=now)
    qtbot.addWidget(page)
    page.ask_time = lambda _parent, _view, _now: TimeChange("notified", FRIDAY_9 + 80 * HOUR, "typo in the hour", 1)
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    page.table.selectRow(0)

    page.record_time()

    expected = ("This notification is past the 72-hour deadline: Art. 33(1) requires the reasons for the delay. "
                "Record them with “Reasons for delay…”, then record the notification's time again.")  # fmt: skip
    qtbot.waitUntil(lambda: page.summary.text() == expected, timeout=5000)
    assert register.get(incident).notifications[0].at == FRIDAY_9 + 20 * HOUR  # nothing changed
    page.hide()
