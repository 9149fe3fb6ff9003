"""The Incidents page's Alt+letter keys work in the main window: a key the menu bar also uses (&Records, &Help,
V&iew) is ambiguous to Qt, which then does nothing at all, so Assess the risk…, Notify the authority… and
Art. 34: inform or exempt… were out of the keyboard's reach."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from app.core.events import EventBus
from app.incidents.register import IncidentRegister
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.store.vault import Vault
from app.ui.action_bar import mnemonic
from app.ui.main_window import MainWindow


def test_every_incident_key_reaches_its_command(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    register = IncidentRegister(vault)
    incident = register.open_incident("Lost laptop", "dpo")
    register.set_aware(incident, "dpo", "confirmed by the IT desk")
    bus, tokens = EventBus(), TokenStore(vault)
    server = ScimServer(vault, tls=ensure_self_signed(data_dir), bus=bus, tokens=tokens)
    window = MainWindow(vault, server, bus, tokens)
    qtbot.addWidget(window)
    page = window.incidents_page
    asked: list[str] = []

    def record(dialog: QDialog) -> bool:
        asked.append(type(dialog).__name__)
        return False

    page.run_dialog = record
    window.show()
    window.pages.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    page.table.selectRow(0)
    page.table.setFocus()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    menus = {f"Alt+{mnemonic(action.text())}" for action in window.menuBar().actions()}
    commands = ((page.risk_button, "RiskDialog"), (page.notify_button, "NotificationDialog"),
                (page.inform_button, "CommunicationDialog"))  # fmt: skip
    keys = [action.shortcut().toString() for action in page.actions()]  # every Alt+letter of the page
    assert len(keys) == len(set(keys)) and not set(keys) & menus
    for button, dialog in commands:
        key = button.defaultAction().shortcut()
        asked.clear()
        qtbot.keyClick(QApplication.focusWidget(), key[0].key(), key[0].keyboardModifiers())
        assert asked == [dialog]  # the action runs at once: no mnemonic animation
        page.table.setFocus()
    window.shutdown()
