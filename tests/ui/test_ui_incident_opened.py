"""An incident opened on the Incidents page is the one selected afterwards: the next step (Record awareness…, its
Alt+A) is for it. The selection stayed on the incident selected before, and awareness went to that one."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.incidents.register import IncidentRegister
from app.policy.in_force import PolicyInForce
from app.store.vault import Vault
from app.ui.incidents.steps import OpenDialog
from app.ui.incidents.view import IncidentsPage


def test_the_new_incident_is_selected(qtbot: QtBot, vault: Vault) -> None:
    IncidentRegister(vault).open_incident("Lost laptop", "dpo")
    page = IncidentsPage(vault, PolicyInForce(vault))
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    page.table.selectRow(0)

    def fill(dialog: OpenDialog) -> bool:
        dialog.title.setText("Misdirected e-mail")
        return True

    page.run_dialog = fill  # type: ignore[assignment]
    page.open_incident()
    qtbot.waitUntil(lambda: page.table.rowCount() == 2, timeout=5000)
    qtbot.waitUntil(lambda: (view := page._selected()) is not None and view.title == "Misdirected e-mail",
                    timeout=5000)  # fmt: skip


def test_a_title_the_register_refuses_keeps_the_dialog_open_with_the_reason(qtbot: QtBot, vault: Vault) -> None:
    """An e-mail address (or a control character) in the title: the register refuses it. The dialog closed first and
    what the operator typed was lost; now it asks the register's own rule, stays open and says why beside the field."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDialog

    dialog = OpenDialog(IncidentRegister(vault).now())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.title, "Laptop of jane.doe@example.org stolen")
    qtbot.keyClick(dialog.title, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.title.text() == "Laptop of jane.doe@example.org stolen"  # nothing the operator typed is lost
    assert not dialog.ok_button.isEnabled()
    assert dialog.title_problem.isVisible() and "e-mail address" in dialog.title_problem.text()
    label = dialog.title_problem  # shown whole, not cut to the lines the dialog had room for when it opened
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()), timeout=2000)

    dialog.title.setText("Lost laptop\tsecond line")
    assert "one line" in dialog.title_problem.text() and not dialog.ok_button.isEnabled()

    dialog.title.setText("Lost laptop of a sales employee")
    assert not dialog.title_problem.isVisible() and dialog.ok_button.isEnabled()
    qtbot.keyClick(dialog.title, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.value().title == "Lost laptop of a sales employee"
