"""Desktop entry point: unlock dialog, then the main window with the SCIM server running beside it."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QThreadPool
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from app import APP_ID, APP_NAME, __version__
from app.core import paths
from app.core.actor import current_actor
from app.core.errors import CustosError, VaultNotAFile
from app.core.log_buffer import install_log_capture
from app.runtime import Runtime
from app.services.setup import endpoint_address, self_signed_tls
from app.store.vault import Vault
from app.ui.first_run.wizard import FirstRunWizard
from app.ui.main_thread_gc import collect_on_main_thread
from app.ui.main_window import MainWindow
from app.ui.settings import appearance
from app.ui.theme import apply_appearance
from app.ui.unlock_dialog import UnlockDialog, unlock_from_keyring

# The SCIM server, its writers and the jobs share the GIL with the GUI thread. With Python's default 5 ms switch
# interval the GUI thread can wait several turns for the GIL under a burst of requests (stalls of 150-400 ms were
# measured, benchmarks/bench_ui.py); 1 ms hands it back sooner for a few percent of throughput.
GIL_SWITCH_INTERVAL_SECONDS = 0.001


def application(argv: Sequence[str]) -> QApplication:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECONDS)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(list(argv))
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    install_log_capture()  # the in-app log view (View → Log): this session's lines, redacted
    collect_on_main_thread(app)  # cycles of Qt wrappers must never be freed on a server or pool thread
    apply_appearance(app, appearance())  # before the first dialog, so the assistant and unlock match the app
    app.setDesktopFileName(APP_ID)  # matches the .desktop file, so Wayland shows the right icon
    icon = paths.resources_dir() / "icons" / "custos.svg"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    return app


def main(
    argv: Sequence[str] | None = None, data_dir: str | os.PathLike[str] | None = None, minimised: bool = False
) -> int:
    """``minimised``: start in the system tray (start at login); the window opens where there is no tray, and the
    passphrase is still asked unless the key is remembered in the keyring."""
    app = application(argv if argv is not None else sys.argv[:1])
    # Not made here: with no vault yet the assistant makes the folder at *Set up*, so that cancelling it leaves
    # nothing behind, not even an empty folder.
    directory = paths.chosen_data_dir(data_dir)
    try:
        exists = Vault.exists(directory)
    except VaultNotAFile as error:  # a folder where the vault file belongs: neither a first run nor an unlock
        QMessageBox.critical(None, APP_NAME, error.user_message)
        return 1
    except OSError:  # no permission to look into the folder
        QMessageBox.critical(None, APP_NAME, f"The data folder {directory} cannot be opened.")
        return 1
    if not exists:
        return first_run(app, directory)
    vault = unlock_from_keyring(directory)
    if vault is None:
        dialog = UnlockDialog(directory)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.vault is None:
            return 1
        vault = dialog.vault
        dialog.deleteLater()
    return run_session(app, directory, vault, minimised)


def first_run(app: QApplication, directory: Path) -> int:
    """The assistant creates the vault, certificate, policy and first token; then the app runs as usual."""
    wizard = FirstRunWizard(directory, current_actor.get().removeprefix("operator:"))
    if wizard.exec() != QDialog.DialogCode.Accepted or wizard.result is None:
        return 1
    vault = wizard.result.vault
    wizard.deleteLater()
    return run_session(app, directory, vault)


def run_session(app: QApplication, directory: Path, vault: Vault, minimised: bool = False) -> int:
    """Own ``vault`` until the event loop ends; the server is always stopped and the vault closed."""
    window: MainWindow | None = None
    runtime: Runtime | None = None
    try:
        address = endpoint_address(directory)
        runtime = Runtime(
            vault,
            host=address.host,
            port=address.port,
            public_host=address.public_host,
            tls=self_signed_tls(directory),
        )
        window = MainWindow(vault, runtime.server, runtime.bus, runtime.tokens)
        # The session lasts as long as the main window, not "until the last visible window closes": hidden in the
        # tray (or started minimised) there is no visible window, and the tray's Quit must still end the process.
        app.setQuitOnLastWindowClosed(False)
        window.closed.connect(app.quit)
        show_window(window, minimised)
        window.server_panel.start()
        runtime.start_jobs()
        return app.exec()
    except CustosError as exc:
        QMessageBox.critical(None, APP_NAME, exc.user_message)
        return 1
    finally:
        app.setQuitOnLastWindowClosed(True)
        shutdown(window, runtime, vault)


def show_window(window: MainWindow, minimised: bool) -> None:
    """The window, or — minimised with a tray to live in — only the tray icon (never an app nobody can reach)."""
    if minimised and window.tray.available():
        window.tray.icon.show()
        return
    window.show()


def shutdown(window: MainWindow | None, runtime: Runtime | None, vault: Vault) -> None:
    if window is not None:
        window.shutdown()
    QThreadPool.globalInstance().waitForDone()  # a server start may still be in flight
    if runtime is not None:
        runtime.stop()
    QThreadPool.globalInstance().waitForDone()
    if window is not None:
        window.deleteLater()
    vault.close()
