"""Custos as a background service: closing the window keeps the SCIM endpoint up, in the system tray.

An IdP pushes on its own schedule (Entra every 40 minutes): if closing the window stopped the endpoint, the next
push would fail without anyone seeing it. So, with the endpoint running and a system tray to go to, closing the
window hides it, and the tray menu offers Open, Lock, Pause/Resume the endpoint and Quit; quitting while the
endpoint runs asks first. Where there is no tray (some desktops, a bare X server), closing asks instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

QUIT_QUESTION = (
    "Quit Custos? The SCIM endpoint stops with it: your identity provider's next push will fail until Custos "
    "runs again.\n\nTo keep it running without the window, close the window instead (Custos stays in the tray)."
)
# Without a system tray, closing the window quits too: the advice above would send the user round in a circle.
QUIT_QUESTION_NO_TRAY = (
    "Quit Custos? The SCIM endpoint stops with it: your identity provider's next push will fail until Custos "
    "runs again.\n\nThis desktop has no system tray, so Custos cannot keep running without its window; "
    "`custos serve` keeps the endpoint up without one."
)
HIDDEN_MESSAGE = "Custos is still running: the SCIM endpoint stays up. Open it or quit from here."


def tray_available() -> bool:
    return QSystemTrayIcon.isSystemTrayAvailable()


class Tray(QObject):
    def __init__(self, window: MainWindow, available: Callable[[], bool] | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.available = available or tray_available  # looked up now, so a test can say "there is a tray"
        self.told = False  # the "still running" balloon, once per session
        self.icon = QSystemTrayIcon(self._icon(), self)
        self.icon.setToolTip("Custos")
        self.menu = QMenu()
        self.open_action = self._add("&Open Custos", self.show_window)
        self.lock_action = self._add("&Lock", window.lock)
        self.pause_action = self._add("&Pause the SCIM endpoint", self.toggle_endpoint)
        self.menu.addSeparator()
        self.quit_action = self._add("&Quit", window.quit)
        self.menu.aboutToShow.connect(self.refresh)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.refresh()
        if self.available():
            self.icon.show()

    def _icon(self) -> QIcon:
        app = QApplication.instance()
        icon = app.windowIcon() if isinstance(app, QApplication) else QIcon()
        return icon if not icon.isNull() else QIcon.fromTheme("security-high")

    def _add(self, text: str, slot: Callable[[], object]) -> QAction:
        action = self.menu.addAction(text)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def refresh(self) -> None:
        running = self.window.server.running
        self.pause_action.setText("&Pause the SCIM endpoint" if running else "&Resume the SCIM endpoint")
        self.lock_action.setEnabled(not self.window.locked)
        self.icon.setToolTip(f"Custos — endpoint {'running' if running else 'stopped'}")

    def toggle_endpoint(self) -> None:
        panel = self.window.server_panel
        (panel.stop if self.window.server.running else panel.start)()
        self.refresh()

    def show_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.show_window()

    def quit_question(self) -> str:
        """What to ask before the endpoint stops with the app: the tray is offered only where there is one."""
        return QUIT_QUESTION if self.available() else QUIT_QUESTION_NO_TRAY

    def keep_running(self) -> bool:
        """On closing the window: True when it was hidden to the tray (the endpoint keeps running)."""
        if not (self.window.server.running and self.available()):
            return False
        self.icon.show()
        self.window.hide()
        if not self.told:
            self.told = True
            self.icon.showMessage("Custos", HIDDEN_MESSAGE, QSystemTrayIcon.MessageIcon.Information, 8000)
        return True

    def close(self) -> None:
        self.icon.hide()
        self.menu.deleteLater()
