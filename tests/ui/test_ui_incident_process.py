"""The whole breach process on the Incidents page, by keyboard, against a real vault and register: open by hand (not
a "candidate from alerts"), dismiss a candidate, awareness, risk, containment, scope, notifications (initial then
follow-up, late ones with their reasons), the Art. 34 exemption, close; Tab leaves every prompt box."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from ui_keyboard import TAB, by_keyboard, key, out_of_the_box, typed

from app.audit.tables import AuditEvent
from app.incidents.register import IncidentRegister, utc_now
from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from app.ui.incidents.awareness import AwarenessDialog
from app.ui.incidents.details import DetailsDialog
from app.ui.incidents.steps import DismissDialog, NotificationDialog
from app.ui.incidents.view import CLOCK, IncidentsPage


def events(vault: Vault, kind: str) -> list[dict[str, object]]:
    with vault.read_connection() as conn:
        rows = conn.execute(select(AuditEvent.__table__.c.details).where(AuditEvent.__table__.c.kind == kind)).all()
    return [json.loads(row[0]) for row in rows]


def state_of(page: IncidentsPage, incident_id: int) -> str:
    for row in range(page.table.rowCount()):
        if page.table.item(row, 0).text() == str(incident_id):
            return page.table.item(row, 1).text()
    raise AssertionError(f"incident {incident_id} not listed")


def choose(page: IncidentsPage, incident_id: int) -> None:
    row = next(r for r in range(page.table.rowCount()) if page.table.item(r, 0).text() == str(incident_id))
    page.table.selectRow(row)


def test_the_whole_breach_process_by_keyboard(qtbot: QtBot, vault: Vault) -> None:
    register = IncidentRegister(vault)
    candidate = register.open_candidate_from_alert(9, "schema_rejections", "40 refusals")
    page = IncidentsPage(vault, PolicyInForce(vault))
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)

    # Opened by hand: a title, a description whose Tab leaves the box (no tab character in it), the detection time.
    page.run_dialog = by_keyboard(qtbot, typed("Lost laptop"), TAB, typed("Unencrypted disk"), TAB, out_of_the_box)
    page.open_incident()
    qtbot.waitUntil(lambda: page.table.rowCount() == 2, timeout=5000)
    manual = max(v.id for v in register.list())
    assert register.get(manual).description == "Unencrypted disk"
    assert state_of(page, manual) == "awaiting awareness" and state_of(page, candidate) == "candidate"
    assert "1 candidate from alerts" in page.summary.text()
    assert "1 opened by hand awaiting awareness" in page.summary.text()

    # The candidate from alerts is dismissed with the reasoning: closed, risk none, and it says "dismissed".
    choose(page, candidate)
    assert page.dismiss_button.isEnabled() and not page.notify_button.isEnabled()
    page.run_dialog = by_keyboard(qtbot, typed("Mapping mismatch from the IdP, not a breach"))
    page.dismiss()
    qtbot.waitUntil(lambda: state_of(page, candidate) == "dismissed", timeout=5000)
    dismissed = register.get(candidate)
    assert dismissed.state == "closed" and dismissed.risk == "none"
    assert dismissed.not_notified_rationale == "Mapping mismatch from the IdP, not a breach"
    assert events(vault, "incident.dismissed")[0]["incident"] == candidate
    row = next(r for r in range(page.table.rowCount()) if page.table.item(r, 0).text() == str(candidate))
    assert page.table.item(row, CLOCK).text() == "no deadline (dismissed)"
    assert page.table.item(row, CLOCK).toolTip() == "no deadline: dismissed as not a personal-data breach"
    assert "Mapping mismatch" not in json.dumps(events(vault, "incident.dismissed"))  # free text stays in the register

    # One opened by hand is no candidate, yet the register dismisses it too: the button says what it does.
    choose(page, manual)
    assert page.dismiss_button.isEnabled()
    assert page.dismiss_button.defaultAction().text() == "Dis&miss as not a breach…"
    dialog = DismissDialog(register.get(manual))
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == f"Dismiss incident {manual} as not a breach"
    intro = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert "“Lost laptop” was opened by hand, and no one is recorded as aware" in intro

    # Awareness (its own dialog and tests): not before the detection the open dialog recorded.
    choose(page, manual)
    aware_at = utc_now().replace(microsecond=0)
    page.ask_awareness = lambda _parent, _view, _now: (aware_at, "device confirmed stolen")
    page.record_awareness()
    qtbot.waitUntil(lambda: state_of(page, manual) == "open", timeout=5000)
    assert not page.dismiss_button.isEnabled() and page.notify_button.isEnabled()

    # Risk: the combo first (Down twice: high risk), then the reasoning.
    page.run_dialog = by_keyboard(qtbot, key(Qt.Key.Key_Down), key(Qt.Key.Key_Down), TAB,
                                  typed("Names and e-mails of 40 staff, unencrypted"))  # fmt: skip
    page.assess_risk()
    qtbot.waitUntil(lambda: register.get(manual).risk == "high_risk", timeout=5000)

    # Containment: the time (now, by default) and the measures (Alt+M: Tab walks the time's sections first).
    page.run_dialog = by_keyboard(qtbot, key(Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier),
                                  typed("Device wiped remotely"))  # fmt: skip
    page.record_containment()
    qtbot.waitUntil(lambda: register.get(manual).contained_at is not None, timeout=5000)
    assert register.get(manual).measures == "Device wiped remotely"

    # Scope: Alt+C computes from the mirror and the trail, OK stores the figures as approximate.
    page.run_dialog = by_keyboard(qtbot, key(Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier),
                                  lambda q, d: q.waitUntil(lambda: d.ready(), timeout=5000))  # type: ignore[attr-defined]
    page.compute_scope()
    qtbot.waitUntil(lambda: register.get(manual).approx_subjects is not None, timeout=5000)
    assert register.get(manual).approx_records is not None

    # Initial notification, then a follow-up (the dialog knows it is one).
    page.run_dialog = by_keyboard(qtbot, typed("SA-2026-0042"))
    page.notify()
    qtbot.waitUntil(lambda: state_of(page, manual) == "notified", timeout=5000)
    follow_up: list[NotificationDialog] = []

    def remember(_qtbot: QtBot, dialog: QDialog) -> None:
        assert isinstance(dialog, NotificationDialog)
        follow_up.append(dialog)

    page.run_dialog = by_keyboard(qtbot, remember, typed("SA-2026-0042/2"))
    page.notify()
    qtbot.waitUntil(lambda: len(register.get(manual).notifications) == 2, timeout=5000)
    assert follow_up[0].follow_up.isChecked() and not follow_up[0].follow_up.isEnabled()
    assert [n.kind for n in register.get(manual).notifications] == ["initial", "follow-up"]

    # Art. 34: the exemption (Alt+E), its reasoning (Alt+S jumps to the box).
    page.run_dialog = by_keyboard(qtbot, key(Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier),
                                  key(Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier),
                                  typed("The disk was wiped before anyone could read it"))  # fmt: skip
    page.record_communication()
    qtbot.waitUntil(lambda: register.get(manual).art34_exemption is not None, timeout=5000)
    assert register.get(manual).art34_exemption == "a"

    # Close: refused until the Art. 33(3) content is there (the register's message on the page), then closed.
    page.run_dialog = by_keyboard(qtbot)
    page.close_incident()
    qtbot.waitUntil(lambda: "Before closing, record" in page.summary.text(), timeout=5000)
    register.update(manual, "dpo", nature="theft", subject_categories=["Employees"], dpo_contact="dpo@example.test",
                    consequences="phishing risk", categories=["Contact"] if not register.get(manual).categories
                    else register.get(manual).categories)  # fmt: skip
    page.close_incident()
    qtbot.waitUntil(lambda: state_of(page, manual) == "closed", timeout=5000)
    assert not page.notify_button.isEnabled() and not page.close_button.isEnabled()
    text = page.detail.toPlainText()
    assert "Opened by hand; closed." in text and "Art. 34 exemption (a)" in text and "Measures: Device wiped" in text


def test_late_notification_needs_the_reasons_for_the_delay(qtbot: QtBot, vault: Vault) -> None:
    register = IncidentRegister(vault)
    now = utc_now()
    incident = register.open_incident("Misaddressed e-mail", "dpo", detected_at=now - timedelta(hours=80))
    register.set_aware(incident, "dpo", "confirmed", at=now - timedelta(hours=79))
    dialog = NotificationDialog(register.get(incident), now)
    qtbot.addWidget(dialog)
    dialog.reference.setText("SA-7")
    assert dialog.is_late() and not dialog.ok_button.isEnabled()
    assert "requires the reasons for the delay" in dialog.late.text()
    dialog.delay_reason.setPlainText("The processor told us on day 3")
    assert dialog.ok_button.isEnabled()


def test_tab_leaves_every_prompt_box(qtbot: QtBot, vault: Vault) -> None:
    register = IncidentRegister(vault)
    incident = register.open_incident("Lost laptop", "dpo")
    view = register.get(incident)
    for dialog in (AwarenessDialog(view, utc_now()), DetailsDialog(view)):
        qtbot.addWidget(dialog)
        dialog.show()
        boxes = dialog.findChildren(QPlainTextEdit)
        assert boxes
        for box in boxes:
            box.setFocus()
            qtbot.waitUntil(box.hasFocus, timeout=1000)
            qtbot.keyClick(box, Qt.Key.Key_Tab)
            assert not box.hasFocus() and "\t" not in box.toPlainText()


def test_every_step_dialog_fits_200_percent(qtbot: QtBot, vault: Vault) -> None:
    from test_ui_scaling import fits

    from app.ui.incidents.scope_dialog import ScopeDialog
    from app.ui.incidents.steps import (
        CloseDialog,
        CommunicationDialog,
        ContainmentDialog,
        DelayReasonDialog,
        DismissDialog,
        OpenDialog,
        RiskDialog,
    )

    register = IncidentRegister(vault)
    incident = register.open_incident("Lost laptop", "dpo")
    register.set_aware(incident, "dpo", "confirmed")
    view, now = register.get(incident), utc_now()
    dialogs = (OpenDialog(now), DismissDialog(view), RiskDialog(view), ContainmentDialog(view, now),
               NotificationDialog(view, now), CommunicationDialog(view, now), CloseDialog(view),
               DelayReasonDialog(view, now), ScopeDialog(vault, PolicyInForce(vault), view, now))  # fmt: skip
    for dialog in dialogs:
        qtbot.addWidget(dialog)
        dialog.show()
        assert fits(dialog.minimumSizeHint()) and fits(dialog.sizeHint()), (dialog.windowTitle(),
                                                                           dialog.sizeHint().toTuple())
    page = IncidentsPage(vault, PolicyInForce(vault))  # thirteen buttons, four to a row
    qtbot.addWidget(page)
    assert fits(page.minimumSizeHint()), page.minimumSizeHint().toTuple()


def test_awareness_by_keyboard_alone(qtbot: QtBot, vault: Vault) -> None:
    """The time has the focus and Tab walks its sections: Alt+R reaches the reasoning, Tab then OK."""
    register = IncidentRegister(vault)
    incident = register.open_incident("Lost laptop", "dpo")
    dialog = AwarenessDialog(register.get(incident), utc_now())
    accepted = by_keyboard(qtbot, key(Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier), typed("Owner confirmed"))(dialog)
    assert accepted and dialog.value()[1] == "Owner confirmed"


def test_the_reasons_for_the_delay_are_recorded_before_notifying(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    """Past 72 hours, not yet notified: Alt+Y records the reasons for the delay (as breach update --delay-reason
    does), the completeness check stops listing them and the draft's 'Reasons for delay' carries them."""
    register = IncidentRegister(vault)
    now = utc_now()
    incident = register.open_incident("Misaddressed e-mail", "dpo", detected_at=now - timedelta(hours=80))
    register.set_aware(incident, "dpo", "confirmed", at=now - timedelta(hours=79))
    page = IncidentsPage(vault, PolicyInForce(vault))
    qtbot.addWidget(page)
    page.show()
    page.activateWindow()
    qtbot.waitUntil(lambda: "reasons for the delay" in page.detail.toPlainText(), timeout=5000)
    assert page.delay_button.isEnabled()
    page.run_dialog = by_keyboard(qtbot, typed("The processor told us on day 3"))
    qtbot.keyClick(page.table, Qt.Key.Key_Y, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: register.get(incident).delay_reason == "The processor told us on day 3", timeout=5000)
    qtbot.waitUntil(lambda: "Reasons for the delay: The processor" in page.detail.toPlainText(), timeout=5000)
    assert "Art. 33(1): the notification is later" not in page.detail.toPlainText()
    assert register.get(incident).first_notified is None  # recorded before notifying
    page.choose_folder = lambda _parent: tmp_path
    page.export_draft()
    qtbot.waitUntil(lambda: "Draft written" in page.summary.text(), timeout=10_000)
    draft = next(tmp_path.glob("*.md")).read_text(encoding="utf-8")
    assert "The processor told us on day 3" in draft


def test_an_awareness_before_the_detection_keeps_the_dialog_open_with_the_reason(qtbot: QtBot, vault: Vault) -> None:
    """The register refuses an awareness before the detection. The dialog closed first and the reasoning typed was
    lost ("The controller cannot be aware before the incident was detected." on the page, nothing recorded); it now
    asks the register's own check of the times, stays open and says why under the time."""
    register = IncidentRegister(vault)
    now = utc_now()
    incident = register.open_incident("Lost laptop", "dpo", detected_at=now - timedelta(hours=1))
    dialog = AwarenessDialog(register.get(incident), now)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.when.setDateTime(dialog.when.dateTime().addSecs(-2 * 3600))  # an hour before the detection
    dialog.reason.setFocus()
    qtbot.keyClicks(dialog.reason, "Owner confirmed")
    qtbot.keyClick(dialog.when, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.reason.toPlainText() == "Owner confirmed"  # what was typed is still there
    problem = dialog.time_problem.text()  # both times named, to the second
    assert problem.startswith("The controller cannot be aware (") and "before the incident was detected (" in problem
    assert dialog.time_problem.isVisible() and not dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()

    dialog.when.setDateTime(dialog.when.dateTime().addSecs(2 * 3600))
    assert not dialog.time_problem.isVisible() and dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    qtbot.keyClick(dialog.when, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    at, reason = dialog.value()
    assert register.set_aware(incident, "dpo", reason, at=at).aware_at == at  # the register takes what it let through


def test_a_containment_before_the_occurrence_keeps_the_dialog_open_with_the_reason(qtbot: QtBot, vault: Vault) -> None:
    """The register refuses a containment before the breach occurred; the dialog closed first and the measures
    typed were lost. It now asks the register's check, and OK waits with the reason under the time."""
    from app.ui.incidents.steps import ContainmentDialog

    register = IncidentRegister(vault)
    now = utc_now()
    incident = register.open_incident("Lost laptop", "dpo", detected_at=now - timedelta(hours=1),
                                      occurred_from=now - timedelta(hours=2))  # fmt: skip
    dialog = ContainmentDialog(register.get(incident), now)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.measures, "Remote wipe sent")
    dialog.when.setDateTime(dialog.when.dateTime().addSecs(-3 * 3600))  # an hour before it occurred
    dialog.accept()  # as Enter does
    assert dialog.isVisible() and dialog.measures.toPlainText() == "Remote wipe sent"
    problem = dialog.time_problem.text()
    assert problem.startswith("The incident cannot be contained (") and "before it occurred (" in problem
    assert not dialog.ok_button.isEnabled()
    dialog.when.setDateTime(dialog.when.dateTime().addSecs(2 * 3600))
    assert not dialog.time_problem.isVisible() and dialog.ok_button.isEnabled()
    changes, reason = dialog.value()
    assert register.update(incident, "dpo", reason, **changes).contained_at == changes["contained_at"]


def test_the_scope_dialog_shows_the_members_of_groups_read(qtbot: QtBot, vault: Vault) -> None:
    """The dialog lists the figures `breach scope` prints: the members read through groups' member lists too, on a
    line of their own after the trail's, and the dialog still fits at 200%."""
    from test_ui_scaling import fits

    from app.incidents.scope import Scope
    from app.ui.incidents.scope_dialog import ScopeDialog

    register = IncidentRegister(vault)
    incident = register.open_incident("Token leaked", "dpo")
    dialog = ScopeDialog(vault, PolicyInForce(vault), register.get(incident), utc_now())
    qtbot.addWidget(dialog)
    dialog.show()
    dialog._computed(Scope(4, 8, ["Account identifiers"], 2, groups_members_read=2, group_members=40,
                           members_not_named=38))  # fmt: skip
    lines = dialog.figures.text().splitlines()
    assert lines[1] == "Subjects in audit events of the window: 2."
    assert lines[2].startswith("Members of groups whose member lists were read in the window: 40 (members as held now")
    assert lines[2].endswith("of whom 38 are not among the subjects in audit events.")
    assert fits(dialog.minimumSizeHint()) and fits(dialog.sizeHint())


def test_the_scope_dialog_grows_to_show_every_figure(qtbot: QtBot, vault: Vault) -> None:
    """Seen in Xvfb: with the older-list-reads and group-members lines, the figures were cut after the third line
    (the dialog kept the height it opened with)."""
    from app.incidents.scope import Scope
    from app.ui.incidents.scope_dialog import ScopeDialog

    register = IncidentRegister(vault)
    incident = register.open_incident("Token leaked", "dpo")
    dialog = ScopeDialog(vault, PolicyInForce(vault), register.get(incident), utc_now())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog._computed(Scope(4, 8, ["Account identifiers", "Contact details"], 2, basis="every User in the mirror now",
                           unnamed_list_reads=3, users_held=120, groups_members_read=2, group_members=40,
                           members_not_named=38))  # fmt: skip
    qtbot.wait(50)
    figures = dialog.figures
    assert figures.height() >= figures.heightForWidth(figures.width())  # before: about half of the text shown
