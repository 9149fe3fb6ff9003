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
