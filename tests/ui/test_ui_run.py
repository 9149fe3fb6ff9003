"""run.main end to end: unlock, server up beside the window, everything stopped and closed on quit."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from ui_support import PASSPHRASE

from app import APP_ID, APP_NAME
from app.store.vault import Vault
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
            windows[0].close()  # the last window: the event loop ends as it does for the operator
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


def test_cancelling_the_unlock_dialog_exits_without_opening(data_dir: Path) -> None:
    def step() -> bool:
        modal = QApplication.activeModalWidget()
        if isinstance(modal, UnlockDialog):
            assert modal.creating
            modal.reject()
            return True
        return False

    timer = _drive(step)
    assert main([], data_dir=data_dir) == 1
    timer.stop()
    assert not Vault.exists(data_dir)
