"""The Help menu (issue 14 §7): the shipped user guide opened offline, the keyboard shortcuts read from the menus,
About with versions and licences (Qt's LGPL notice), all by keyboard, and each dialog fits 960×540 (200 %)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.core import paths
from app.scim.server import ScimServer
from app.ui.help import AboutDialog, ShortcutsDialog, UserGuideDialog, about_text, shortcut_rows
from app.ui.main_window import MainWindow

SCREEN_AT_200 = QSize(960, 540)


def test_f1_opens_the_shipped_user_guide(running: tuple[MainWindow, ScimServer], qtbot: QtBot) -> None:
    window, _server = running
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    QTest.keyClick(window, Qt.Key.Key_F1)
    dialog = window.help_dialogs["guide"]  # type: ignore[attr-defined]
    assert isinstance(dialog, UserGuideDialog) and dialog.isVisible()
    text = dialog.browser.toPlainText()
    assert paths.user_guide().is_file() and "Custos" in text and len(text) > 2000
    assert "Outside the policy" in text  # the walk-through from refusal to decision


def test_shortcuts_come_from_the_menus(running: tuple[MainWindow, ScimServer]) -> None:
    window, _server = running
    rows = dict(shortcut_rows(window))
    assert rows["Ctrl+L"] == "Vault → Lock"
    assert rows["Ctrl+Shift+J"] == "View → Log"
    assert "Ctrl+H" in rows  # a passphrase field's own key
    dialog = ShortcutsDialog(window)
    assert dialog.table.rowCount() == len(shortcut_rows(window))


def test_about_names_versions_licences_and_the_lgpl(running: tuple[MainWindow, ScimServer]) -> None:
    text = about_text()
    assert "GNU Lesser General Public License v3" in text and "PySide6" in text
    assert "SQLAlchemy" in text and "MIT" in text.split("SQLAlchemy", 1)[1].splitlines()[0]
    assert "pandas" in text


def test_help_dialogs_fit_at_200_percent(running: tuple[MainWindow, ScimServer], qtbot: QtBot) -> None:
    window, _server = running
    for dialog in (UserGuideDialog(window), ShortcutsDialog(window), AboutDialog(window)):
        dialog.show()
        size, minimum = dialog.size(), dialog.minimumSizeHint()
        assert size.width() <= SCREEN_AT_200.width() and size.height() <= SCREEN_AT_200.height(), size
        assert minimum.width() <= SCREEN_AT_200.width() and minimum.height() <= SCREEN_AT_200.height()
        dialog.close()
