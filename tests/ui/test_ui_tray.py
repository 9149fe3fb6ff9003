"""Custos as a background service (issue 14 §6): closing the window with the endpoint running keeps it up in
the system tray (open, lock, pause, quit), and quitting with the endpoint running asks."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.scim.server import ScimServer
from app.ui.main_window import MainWindow


def test_closing_the_window_keeps_the_endpoint_running_in_the_tray(
    running: tuple[MainWindow, ScimServer], qtbot: QtBot
) -> None:
    window, server = running
    window.tray.available = lambda: True  # the offscreen platform has no tray; a desktop has
    assert window.close() is False  # the close button: refused, the window goes to the tray
    assert not window.isVisible() and server.running
    assert window.tray.told  # said once that it still runs
    window.tray.menu.aboutToShow.emit()
    texts = [a.text() for a in window.tray.menu.actions() if not a.isSeparator()]
    assert texts == ["&Open Custos", "&Lock", "&Pause the SCIM endpoint", "&Quit"]
    window.tray.lock_action.trigger()
    assert window.locked
    window.tray.open_action.trigger()
    assert window.isVisible() and window.locked  # opened, still locked: the passphrase is needed
    window.tray.pause_action.trigger()
    qtbot.waitUntil(lambda: not server.running and window.server_panel.toggle.isEnabled(), timeout=10_000)
    window.tray.refresh()
    assert window.tray.pause_action.text() == "&Resume the SCIM endpoint"
    window.tray.pause_action.trigger()
    qtbot.waitUntil(lambda: server.running and window.server_panel.toggle.isEnabled(), timeout=10_000)


def test_quitting_with_the_endpoint_running_asks(running: tuple[MainWindow, ScimServer], qtbot: QtBot) -> None:
    window, server = running
    questions: list[str] = []
    answers = [False, True]
    window.confirm = lambda _parent, _title, text: (questions.append(text), answers.pop(0))[1]
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    QTest.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)  # Vault → Quit
    assert window.isVisible() and server.running and "SCIM endpoint stops" in questions[0]
    window.tray.quit_action.trigger()  # the tray's Quit asks the same
    assert len(questions) == 2 and not window.isVisible()


def test_without_a_tray_closing_asks_instead(running: tuple[MainWindow, ScimServer]) -> None:
    window, server = running
    window.tray.available = lambda: False
    questions: list[str] = []
    window.confirm = lambda _parent, _title, text: (questions.append(text), False)[1]
    assert window.close() is False and window.isVisible() and server.running
    # Closing the window is what was just done: the question must not advise it, nor promise a tray.
    assert "close the window instead" not in questions[0] and "no system tray" in questions[0]
