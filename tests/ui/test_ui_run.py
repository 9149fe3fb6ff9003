"""run.main end to end: unlock, server up beside the window, everything stopped and closed on quit."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from ui_support import PASSPHRASE, free_port

from app import APP_ID, APP_NAME
from app.setup import endpoint
from app.store.vault import Vault
from app.ui.first_run.wizard import FirstRunWizard
from app.ui.main_window import MainWindow
from app.ui.run import main
from app.ui.unlock_dialog import UnlockDialog

DEADLINE_SECONDS = 30


def _drive(step: Callable[[], bool]) -> QTimer:
    """Poll ``step`` from the event loop that main() runs; give up (and exit) after the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    timer = QTimer()

    def tick() -> None:
        if step():
            timer.stop()
        elif time.monotonic() > deadline:
            timer.stop()
            modal = QApplication.activeModalWidget()
            if modal is not None:
                modal.close()
            QApplication.exit(2)

    timer.timeout.connect(tick)
    timer.start(50)
    return timer


def test_main_unlocks_serves_and_shuts_down(vault: Vault, data_dir: Path) -> None:
    vault.close()  # main() opens the vault itself
    endpoint.save(data_dir, endpoint.EndpointSettings("127.0.0.1", 0))  # any free port
    seen: dict[str, object] = {}

    def step() -> bool:
        modal = QApplication.activeModalWidget()
        if isinstance(modal, UnlockDialog) and "submitted" not in seen:
            modal.passphrase.setText(PASSPHRASE)
            modal.submit()
            seen["submitted"] = True
            return False
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if windows and windows[0].server.running:
            seen["window"] = windows[0]
            seen["vault_status"] = windows[0].vault_status.text()
            windows[0].confirm = lambda *_args: True  # "Quit with the endpoint running?" Yes
            windows[0].quit()  # Vault → Quit: the event loop ends as it does for the operator
            return True
        return False

    timer = _drive(step)
    assert main([], data_dir=data_dir) == 0
    timer.stop()
    window = seen["window"]
    assert isinstance(window, MainWindow)
    assert not window.server.running
    assert not window.vault.is_open
    assert QApplication.applicationName() == APP_NAME
    assert QApplication.desktopFileName() == APP_ID
    status = str(seen["vault_status"])  # the encryption in force, as SQLCipher reports it
    assert status.startswith("Vault: SQLCipher 4.") and "256,000 iterations" in status
    assert "secure_delete on" in status


def test_first_run_assistant_leads_to_a_serving_window(data_dir: Path) -> None:
    """No vault yet: the assistant runs, and the window it leads to serves on the address it saved."""
    seen: dict[str, object] = {}
    port = free_port()

    def step() -> bool:
        modal = QApplication.activeModalWidget()
        if isinstance(modal, FirstRunWizard) and "finished" not in seen:
            if modal.currentPage() is modal.passphrase_page:
                modal.passphrase_page.passphrase.setText(PASSPHRASE)
                modal.passphrase_page.confirmation.setText(PASSPHRASE)
            elif modal.currentPage() is modal.endpoint_page:
                modal.endpoint_page.form.port.setValue(port)
                modal.endpoint_page.route_buttons["agent"].setChecked(True)  # Entra's cloud cannot reach 127.0.0.1
            elif modal.currentPage() is modal.done_page:
                seen["token"] = modal.done_page.token.value.text()
                modal.done_page.stored.setChecked(True)
                seen["finished"] = True
                modal.accept()
                return False
            if not modal.setup_page.running:
                modal.next()
            return False
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if windows and windows[0].server.running:
            seen["base_url"] = windows[0].server.base_url
            seen["window"] = windows[0]
            windows[0].confirm = lambda *_args: True  # "Quit with the endpoint running?" Yes
            windows[0].quit()
            return True
        return False

    timer = _drive(step)
    assert main([], data_dir=data_dir) == 0
    timer.stop()
    assert seen["base_url"] == f"https://127.0.0.1:{port}/scim/v2"
    assert str(seen["token"]).startswith("cst_")
    assert not cast(MainWindow, seen["window"]).vault.is_open
    assert Vault.exists(data_dir)


def test_cancelling_the_first_run_exits_without_writing(data_dir: Path) -> None:
    def step() -> bool:
        modal = QApplication.activeModalWidget()
        if isinstance(modal, FirstRunWizard):
            modal.confirm = lambda *_args: True  # "Quit the set-up?" Yes (asked by keyboard in test_ui_first_run)
            modal.reject()
            return True
        return False

    timer = _drive(step)
    assert main([], data_dir=data_dir) == 1
    timer.stop()
    assert not Vault.exists(data_dir)
    assert list(data_dir.iterdir()) == []
