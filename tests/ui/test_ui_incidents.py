"""The Incidents page and the alert badge: the register with its countdown, awareness recorded with a reason,
the notification draft, and an alert from the rules reaching the window."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDateTime, QThreadPool
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from app.dsr import settings
from app.incidents.register import IncidentRegister
from app.policy.in_force import PolicyInForce
from app.siem.alerts import AlertRaised
from app.store.vault import Vault
from app.ui.incidents.awareness import AwarenessDialog
from app.ui.incidents.details import DetailsDialog
from app.ui.incidents.time_dialog import TimeChange, TimeDialog
from app.ui.incidents.view import CLOCK, IncidentsPage
from tests.incidents.test_register import FRIDAY_9, FakeClock


def test_register_countdown_awareness_and_draft(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    register = IncidentRegister(vault)
    register.open_candidate_from_alert(7, "auth_failures", "25 failures in 5 min")
    page = IncidentsPage(vault, PolicyInForce(vault))
    qtbot.addWidget(page)
    page.ask_awareness = lambda _parent, _view, now: (now, "phishing kit confirmed in the logs")
    page.choose_folder = lambda _parent: tmp_path / "drafts"
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    assert page.table.item(0, 1).text() == "candidate"
    assert page.table.item(0, CLOCK).text() == "not started (no awareness recorded)"
    assert page.table.item(0, CLOCK).toolTip().startswith("72-hour clock not started")
    assert "1 candidate from alerts" in page.summary.text()

    page.table.selectRow(0)
    page.record_awareness()
    qtbot.waitUntil(lambda: page.table.item(0, 1).text() == "open", timeout=5000)
    assert page.table.item(0, CLOCK).text().endswith(" left") and page.table.item(0, 6).text() != "—"
    assert "left (deadline" in page.table.item(0, CLOCK).toolTip()
    assert "Aware because: phishing kit confirmed" in page.detail.toPlainText()
    assert register.get(1).aware_by  # recorded with the operator

    page.export_draft()
    qtbot.waitUntil(lambda: "Draft written" in page.summary.text(), timeout=10_000)
    assert sorted(p.suffix for p in (tmp_path / "drafts").iterdir()) == [".md", ".pdf"]
    page.hide()
    assert not page.countdown.isActive()


def test_alert_badge_on_the_main_window(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    from app.core.events import EventBus
    from app.scim.server import ScimServer
    from app.setup.tls import ensure_self_signed
    from app.setup.tokens import TokenStore
    from app.ui.main_window import MainWindow

    bus, tokens = EventBus(), TokenStore(vault)
    server = ScimServer(vault, tls=ensure_self_signed(data_dir), bus=bus, tokens=tokens)
    window = MainWindow(vault, server, bus, tokens)
    qtbot.addWidget(window)
    bus.publish(AlertRaised(41, "mass_deprovisioning", 500, "500 deletes within 10 min (threshold 50)"))
    index = window.pages.indexOf(window.incidents_page)
    qtbot.waitUntil(lambda: window.pages.tabText(index) == "Incidents (1 new)", timeout=5000)
    message = window.statusBar().currentMessage()  # the notice (no tray here): the rule and its count, no free text
    assert "alert" in message and "500" in message and "within 10 min" not in message
    window.pages.setCurrentIndex(index)
    assert window.pages.tabText(index) == "Incidents"
    window.shutdown()


def test_awareness_at_a_real_time_and_its_correction_keep_the_deadline(qtbot: QtBot, vault: Vault,
                                                                       tmp_path: Path) -> None:  # fmt: skip
    now = FakeClock(FRIDAY_9 + timedelta(hours=80))  # Monday 17:00
    register = IncidentRegister(vault, now)
    register.open_incident("Lost laptop", "dpo", detected_at=FRIDAY_9 - timedelta(hours=1))
    page = IncidentsPage(vault, PolicyInForce(vault), now=now)
    qtbot.addWidget(page)
    page.choose_folder = lambda _parent: tmp_path / "drafts"
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    page.table.selectRow(0)
    asked: list[datetime | None] = []

    def answer(moment: datetime, reason: str):  # what the operator types into the dialog
        return lambda _parent, view, _now: (asked.append(view.aware_at), (moment, reason))[1]

    page.ask_awareness = answer(FRIDAY_9, "laptop confirmed stolen")  # a real time, not "now"
    page.record_awareness()
    qtbot.waitUntil(lambda: page.table.item(0, 4).text() == "2026-11-27 09:00 UTC", timeout=5000)
    assert page.table.item(0, CLOCK).text() == "OVERDUE by 8 h 00 min"

    page.ask_awareness = answer(datetime(2027, 1, 1, tzinfo=UTC), "reset")  # the reset seen on main
    page.record_awareness()
    qtbot.waitUntil(lambda: "in the future" in page.summary.text(), timeout=5000)

    page.ask_awareness = answer(FRIDAY_9 + timedelta(hours=24), "the ticket was only read on Saturday")
    page.record_awareness()
    qtbot.waitUntil(lambda: "— correction " in page.detail.toPlainText(), timeout=5000)
    assert asked == [None, FRIDAY_9, FRIDAY_9]  # the dialog knew it was correcting
    assert page.table.item(0, 4).text() == "2026-11-27 09:00 UTC"  # the deadline's anchor did not move
    assert page.table.item(0, 5).text() == "2026-11-30 09:00 UTC"
    assert page.table.item(0, CLOCK).text().startswith("OVERDUE")
    detail = page.detail.toPlainText()
    assert "The deadline runs from the earliest awareness recorded, 2026-11-27 09:00 UTC." in detail
    assert "Still to record for the authority: nature of the breach (Art. 33(3)(a));" in detail
    history = detail.split("History of times (corrections never replace an earlier value):\n", 1)[1].splitlines()
    operator = register.get(1).aware_by
    assert history[1:] == [
        f"  Controller aware: 2026-11-27 09:00 UTC — first recorded 2026-11-30 17:00 UTC by {operator}: "
        "laptop confirmed stolen",
        f"  Controller aware: 2026-11-28 09:00 UTC — correction 2026-11-30 17:00 UTC by {operator}: "
        "the ticket was only read on Saturday",
    ]  # fmt: skip

    page.export_communication()
    qtbot.waitUntil(lambda: "Draft written" in page.summary.text(), timeout=10_000)
    assert sorted(p.name for p in (tmp_path / "drafts").iterdir()) == [
        "incident-1-communication.md", "incident-1-communication.pdf"
    ]  # fmt: skip
    page.hide()


def test_awareness_dialog_takes_a_time_and_a_reason(qtbot: QtBot, vault: Vault) -> None:
    now = FakeClock(FRIDAY_9 + timedelta(hours=2))
    register = IncidentRegister(vault, now)
    incident = register.open_incident("Lost laptop", "dpo", detected_at=FRIDAY_9 - timedelta(hours=1))
    dialog = AwarenessDialog(register.get(incident), now())
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert dialog.windowTitle() == "Controller aware" and dialog.moment() == now()  # defaults to now
    assert not ok.isEnabled()  # no reasoning yet
    dialog.when.setDateTime(QDateTime.fromSecsSinceEpoch(int(FRIDAY_9.timestamp())))
    qtbot.keyClicks(dialog.reason, "laptop confirmed stolen")
    assert ok.isEnabled() and dialog.value() == (FRIDAY_9, "laptop confirmed stolen")
    dialog.when.setDateTime(QDateTime.fromSecsSinceEpoch(int(datetime(2027, 1, 1, tzinfo=UTC).timestamp())))
    assert dialog.moment() <= now() + timedelta(minutes=5)  # the editor does not go past now (plus skew)

    register.set_aware(incident, "dpo", "laptop confirmed stolen", at=FRIDAY_9)
    correcting = AwarenessDialog(register.get(incident), now())
    qtbot.addWidget(correcting)
    ok = correcting.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert correcting.windowTitle() == "Correct the awareness time" and correcting.moment() == FRIDAY_9
    explanation = correcting.explanation.text()
    assert "deadline keeps running from the earliest awareness recorded, 2026-11-27 09:00 UTC" in explanation
    qtbot.keyClicks(correcting.reason, "typo")
    assert not ok.isEnabled()  # the same time is no correction
    correcting.when.setDateTime(QDateTime.fromSecsSinceEpoch(int((FRIDAY_9 + timedelta(hours=1)).timestamp())))
    assert ok.isEnabled() and correcting.value() == (FRIDAY_9 + timedelta(hours=1), "typo")


def test_details_for_the_authority_recorded_in_the_app(qtbot: QtBot, vault: Vault) -> None:
    now = FakeClock(FRIDAY_9)
    register = IncidentRegister(vault, now)
    incident = register.open_incident("Misdirected export", "dpo", details={"cause": "wrong recipient"})
    dialog = DetailsDialog(register.get(incident))
    qtbot.addWidget(dialog)
    assert dialog.lines["cause"].text() == "wrong recipient" and dialog.changes() == {}  # pre-filled, unchanged
    dialog.subject_categories.setText("Employees, Contractors")
    dialog.types["confidentiality"].setChecked(True)
    dialog.special.setCurrentText("no")
    dialog.cross_border.setCurrentText("yes")
    dialog.lines["lead_authority"].setText("BayLDA")
    dialog.texts["subject_advice"].setPlainText("Watch for phishing e-mails.")
    changes = dialog.changes()
    assert changes == {"subject_categories": ["Employees", "Contractors"], "breach_types": ["confidentiality"],
                       "special_categories": "no", "cross_border": True, "lead_authority": "BayLDA",
                       "subject_advice": "Watch for phishing e-mails."}  # fmt: skip

    page = IncidentsPage(vault, PolicyInForce(vault), now=now)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    page.table.selectRow(0)
    assert "breach type" in page.detail.toPlainText()  # still to record
    page.ask_details = lambda _parent, _view: changes
    page.record_details()
    qtbot.waitUntil(lambda: register.get(incident).lead_authority == "BayLDA", timeout=5000)
    qtbot.waitUntil(lambda: "breach type" not in page.detail.toPlainText(), timeout=5000)
    view = register.get(incident)
    assert (view.breach_types, view.cross_border, view.special_categories) == (["confidentiality"], True, "no")
    page.ask_details = lambda _parent, _view: {"breach_types": ["secrecy"]}
    page.record_details()
    qtbot.waitUntil(lambda: "A breach type is one of" in page.summary.text(), timeout=5000)
    page.hide()


def test_other_times_recorded_and_corrected_in_the_app(qtbot: QtBot, vault: Vault) -> None:
    now = FakeClock(FRIDAY_9 + timedelta(hours=30))
    register = IncidentRegister(vault, now)
    incident = register.open_incident("Lost laptop", "dpo", detected_at=FRIDAY_9 - timedelta(hours=1))
    register.set_aware(incident, "dpo", "confirmed", at=FRIDAY_9)
    register.notify(incident, "dpo", "SA-1", at=FRIDAY_9 + timedelta(hours=20))

    dialog = TimeDialog(register.get(incident), now())
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    labels = [dialog.which.itemText(i) for i in range(dialog.which.count())]
    assert labels[0] == "Occurred (from)" and labels[-1] == "Notification 1 (initial, SA-1)"
    # Occurred (from) at "now", after the detection: the register refuses it (a breach is not detected before it
    # began), so OK waits and says why, naming both times; earlier, it is a first value and needs no reason.
    assert not ok.isEnabled() and "cannot have been detected" in dialog.time_problem.text()
    # Before the awareness (09:00) but after the detection (08:00): refused too (before: accepted).
    dialog.when.setDateTime(QDateTime.fromSecsSinceEpoch(int((FRIDAY_9 - timedelta(minutes=30)).timestamp())))
    assert not ok.isEnabled()
    assert dialog.time_problem.text().startswith(
        "The breach cannot have been detected (2026-11-27 08:00:00 UTC) before it began (2026-11-27 08:30:00 UTC)"
    )
    dialog.when.setDateTime(QDateTime.fromSecsSinceEpoch(int((FRIDAY_9 - timedelta(hours=5)).timestamp())))
    assert ok.isEnabled()  # nothing recorded yet: no reason needed
    dialog.which.setCurrentText("Detected")  # recorded: a correction
    assert "Recorded: 2026-11-27 08:00 UTC" in dialog.state.text() and not ok.isEnabled()
    dialog.when.setDateTime(QDateTime.fromSecsSinceEpoch(int((FRIDAY_9 - timedelta(hours=3)).timestamp())))
    assert not ok.isEnabled()  # a correction without a reason
    qtbot.keyClicks(dialog.reason, "SIEM shows 06:00")
    assert ok.isEnabled()
    assert dialog.value() == TimeChange("detected_at", FRIDAY_9 - timedelta(hours=3), "SIEM shows 06:00")
    # Detected after the awareness: the register would refuse it, so OK waits and the reason is said (it closed,
    # and the reason typed was lost).
    dialog.when.setDateTime(QDateTime.fromSecsSinceEpoch(int((FRIDAY_9 + timedelta(hours=1)).timestamp())))
    assert not ok.isEnabled()
    assert dialog.time_problem.text() == (  # awareness is not among the dialog's times: its button is named
        "The controller cannot be aware (2026-11-27 09:00:00 UTC) before the incident was detected "
        "(2026-11-27 10:00:00 UTC): correct Controller aware (“Record awareness…”) or change “At (local time)”, "
        "whichever is wrong."
    )
    dialog.when.setDateTime(QDateTime.fromSecsSinceEpoch(int((FRIDAY_9 - timedelta(hours=3)).timestamp())))
    assert ok.isEnabled() and not dialog.time_problem.isVisible()

    page = IncidentsPage(vault, PolicyInForce(vault), now=now)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    page.table.selectRow(0)
    changes = iter([
        dialog.value(),
        TimeChange("notified", FRIDAY_9 + timedelta(hours=21), "portal receipt", 1),
        TimeChange("subjects_informed_at", FRIDAY_9 + timedelta(hours=22), ""),
        TimeChange("contained_at", datetime(2027, 1, 1, tzinfo=UTC), ""),
    ])  # fmt: skip
    page.ask_time = lambda _parent, _view, _now: next(changes)
    for expected in ("Detected: 2026-11-27 06:00 UTC — correction", "(notification 1): 2026-11-28 06:00 UTC — corr",
                     "Data subjects informed: 2026-11-28 07:00 UTC — first recorded"):  # fmt: skip
        page.record_time()
        qtbot.waitUntil(lambda expected=expected: expected in page.detail.toPlainText(), timeout=5000)
    page.record_time()
    qtbot.waitUntil(lambda: "in the future" in page.summary.text(), timeout=5000)
    assert page.table.item(0, CLOCK).text() == "notified in time"
    assert page.table.item(0, CLOCK).toolTip() == "notified in time (deadline 2026-11-30 09:00 UTC)"
    page.hide()


def test_the_draft_is_written_from_the_register_as_it_stands(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    """The page writes the draft through the service that reads the incident when it writes it: a change made
    since the row was shown (by `breach update` in a terminal, or another window) is in the draft, not the row's
    older copy."""
    register = IncidentRegister(vault)
    incident = register.open_incident("Lost laptop", "dpo")
    page = IncidentsPage(vault, PolicyInForce(vault))
    qtbot.addWidget(page)
    page.choose_folder = lambda _parent: tmp_path / "drafts"
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    page.table.selectRow(0)
    register.update(incident, "dpo", measures="Remote wipe confirmed by the MDM at 10:40")  # elsewhere, meanwhile
    page.export_draft()
    qtbot.waitUntil(lambda: "Draft written" in page.summary.text(), timeout=10_000)
    (draft,) = (tmp_path / "drafts").glob("*.md")
    assert "Remote wipe confirmed by the MDM at 10:40" in draft.read_text(encoding="utf-8")
    page.hide()


def test_the_local_deadline_is_the_controller_s_zone_named(qtbot: QtBot, vault: Vault,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """On main the "Deadline (local)" column was this workstation's zone (Tokyo here), not the controller's."""
    settings.save(vault.path.parent, zone="America/New_York")
    register = IncidentRegister(vault, FakeClock(FRIDAY_9 + timedelta(hours=1)))
    incident = register.open_incident("Lost laptop", "dpo", detected_at=FRIDAY_9 - timedelta(hours=1))
    register.set_aware(incident, "dpo", "laptop confirmed stolen", at=FRIDAY_9)
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        page = IncidentsPage(vault, PolicyInForce(vault), now=FakeClock(FRIDAY_9 + timedelta(hours=1)))
        qtbot.addWidget(page)
        page.show()
        qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
        assert page.table.item(0, 5).text() == "2026-11-30 09:00 UTC"
        assert page.table.item(0, 6).text() == "2026-11-30 04:00 America/New_York"
        # the header says whose zone: the dialogs' "local time" is this computer's (Tokyo here), the column is not
        assert page.table.horizontalHeaderItem(6).text() == "Deadline (controller's zone)"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_the_summary_counts_one_incident_in_the_singular(qtbot: QtBot, vault: Vault) -> None:
    """It read "1 incident(s) in the register; … 0 candidate(s)": a count is said with its noun in agreement."""
    IncidentRegister(vault).open_incident("Lost laptop", "dpo")
    page = IncidentsPage(vault, PolicyInForce(vault))
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    assert page.summary.text() == ("1 incident in the register; 0 with the 72-hour clock running; 0 candidates "
                                   "from alerts awaiting a decision; 1 opened by hand awaiting awareness.")  # fmt: skip


def test_a_read_that_started_before_a_change_does_not_overwrite_the_page_after_it(
    qtbot: QtBot, vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read of the register under way when an incident was opened (the page shown, a notice clicked) finished
    after the read made for it: the page lost the new incident until something read it again."""
    from app.ui.incidents import view

    register = IncidentRegister(vault)
    register.open_candidate_from_alert(7, "auth_failures", "25 failures in 5 min")
    held, release = threading.Event(), threading.Event()
    read = view.read_incidents

    def first_read_held(*args: Any) -> Any:
        result = read(*args)
        if not held.is_set():
            held.set()
            release.wait(10)
        return result

    monkeypatch.setattr(view, "read_incidents", first_read_held)
    page = IncidentsPage(vault, PolicyInForce(vault))
    qtbot.addWidget(page)
    page.show()
    try:
        assert held.wait(10)
        register.open_incident("Lost laptop", "dpo")
        page.refresh()  # as after opening one
        qtbot.waitUntil(lambda: page.table.rowCount() == 2, timeout=10_000)
    finally:
        release.set()
    assert QThreadPool.globalInstance().waitForDone(10_000)
    qtbot.wait(50)  # the held read's answer is delivered (queued) on the GUI thread
    assert page.table.rowCount() == 2
