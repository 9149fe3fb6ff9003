"""run.main end to end: unlock, server up beside the window, everything stopped and closed on quit."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
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
            seen["vault_status"] = windows[0].vault_status.text() + "\n" + windows[0].vault_status.toolTip()
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
    status = str(seen["vault_status"])  # the encryption in force, as SQLCipher reports it (in brief; all: tooltip)
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


def test_cancelling_the_first_run_leaves_no_folder(tmp_path: Path) -> None:
    """The assistant says nothing is written until *Set up*: the app made the data folder before it started, so a
    first launch cancelled left an empty folder behind (~/.local/share/Custos)."""
    folder = tmp_path / "Custos"

    def step() -> bool:
        modal = QApplication.activeModalWidget()
        if isinstance(modal, FirstRunWizard):
            modal.confirm = lambda *_args: True
            modal.reject()
            return True
        return False

    timer = _drive(step)
    assert main([], data_dir=folder) == 1
    timer.stop()
    assert not folder.exists()


def test_minimised_the_app_starts_in_the_tray_with_the_endpoint_up(
    vault: Vault, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start at login: ``--minimised`` opens no window where there is a tray, and the endpoint serves."""
    vault.close()
    endpoint.save(data_dir, endpoint.EndpointSettings("127.0.0.1", 0))
    monkeypatch.setattr("app.ui.tray.tray_available", lambda: True)  # the offscreen platform has none
    seen: dict[str, object] = {}

    def step() -> bool:
        modal = QApplication.activeModalWidget()
        if isinstance(modal, UnlockDialog) and "submitted" not in seen:
            modal.passphrase.setText(PASSPHRASE)
            modal.submit()
            seen["submitted"] = True
            return False
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        if windows and windows[0].server.running:
            window = windows[0]
            seen.update(visible=window.isVisible(), tray=window.tray.icon.isVisible())
            window.confirm = lambda *_args: True
            window.tray.quit_action.trigger()
            return True
        return False

    timer = _drive(step)
    assert main([], data_dir=data_dir, minimised=True) == 0
    timer.stop()
    assert seen == {"submitted": True, "visible": False, "tray": True}


def test_minimised_without_a_tray_the_window_opens(vault: Vault, data_dir: Path, qtbot: QtBot) -> None:
    from app.core.events import EventBus
    from app.scim.server import ScimServer
    from app.setup.tls import ensure_self_signed
    from app.setup.tokens import TokenStore
    from app.ui.run import show_window

    bus = EventBus()
    window = MainWindow(vault, ScimServer(vault, tls=ensure_self_signed(data_dir), bus=bus), bus, TokenStore(vault))
    qtbot.addWidget(window)
    window.tray.available = lambda: False
    show_window(window, minimised=True)
    assert window.isVisible()  # never an app nobody can reach
    window.shutdown()


def test_quitting_from_the_tray_after_closing_the_window_ends_the_process(
    vault: Vault, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closed to the tray, then Quit in the tray menu: the event loop ended only when the last *visible* window
    closed, so the process stayed on with no window and no tray icon (the deadline below returned 2)."""
    vault.close()
    endpoint.save(data_dir, endpoint.EndpointSettings("127.0.0.1", 0))
    monkeypatch.setattr("app.ui.tray.tray_available", lambda: True)
    seen: dict[str, object] = {}

    def step() -> bool:
        modal = QApplication.activeModalWidget()
        if isinstance(modal, UnlockDialog) and "submitted" not in seen:
            modal.passphrase.setText(PASSPHRASE)
            modal.submit()
            seen["submitted"] = True
            return False
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        if windows and windows[0].server.running and "quit" not in seen:
            window = windows[0]
            seen["hidden"] = window.close() is False and not window.isVisible()  # the close button: to the tray
            window.confirm = lambda *_args: True
            window.tray.quit_action.trigger()
            seen["quit"] = True
        return False  # the loop must end by itself; else the deadline ends it with 2

    timer = _drive(step)
    assert main([], data_dir=data_dir) == 0
    timer.stop()
    assert seen == {"submitted": True, "hidden": True, "quit": True}


def test_a_folder_where_the_vault_belongs_is_said_not_a_first_run(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: no vault file, so the first-run assistant opened, and its last step said "A vault already exists…;
    unlock it instead"."""
    (data_dir / "custos.vault").mkdir()
    said: list[str] = []
    monkeypatch.setattr("app.ui.run.QMessageBox.critical", lambda _parent, _title, text: said.append(text))
    monkeypatch.setattr("app.ui.run.first_run", lambda *_args: pytest.fail("a first run over a folder"))

    assert main([], data_dir=data_dir) == 1
    assert len(said) == 1 and said[0].startswith(f"{data_dir / 'custos.vault'} is a folder, not a vault file")
