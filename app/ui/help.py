"""The Help menu: the user guide (shipped, read offline in the app), the keyboard shortcuts, and About with the
versions and licences of the bundled libraries, Qt's LGPL notice included.

Everything here is read from what is installed or from the menus themselves, so it cannot drift from the truth:
the shortcuts list is built from the window's actions, the versions from the packages' metadata.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable
from importlib import metadata

import PySide6
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QAction, QKeySequence, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app import APP_NAME, __version__
from app.core import paths
from app.ui.widgets import resize_within_screen

# The bundled libraries a licence notice is owed for (distribution name as on PyPI).
LIBRARIES = (
    "PySide6-Essentials", "shiboken6", "SQLAlchemy", "sqlcipher3", "alembic", "cryptography", "httpx", "uvicorn",
    "starlette", "scim2-models", "pandas", "numpy", "openpyxl", "odfpy", "fpdf2", "fonttools", "tomlkit",
    "platformdirs", "keyring", "email-validator",
)  # fmt: skip
QT_LGPL_NOTICE = (
    "Qt {qt} and PySide6 {pyside} are used under the GNU Lesser General Public License v3 (LGPL-3.0-only). They "
    "are linked dynamically: in the installed or frozen build the Qt and PySide6 libraries are separate files "
    "you may replace with your own build of the same version. Their source code is available from "
    "https://download.qt.io/official_releases/ and https://download.qt.io/official_releases/QtForPython/, or on "
    "request from the distributor of this build, for three years."
)
# Keys that belong to widgets rather than menu actions (they cannot be read from the menus).
WIDGET_SHORTCUTS = (
    ("Ctrl+H", "Show or hide a passphrase while typing it"),
    ("Enter", "Unlock / the dialog's default button"),
    ("Escape", "Cancel a dialog; in the first-run assistant, asks before quitting"),
    ("Tab / Shift+Tab", "Next / previous field; leaves a text box"),
    ("Alt+underlined letter", "A button or field by its label"),
    ("Menu / Shift+F10", "On a user in Identities: Export subject data…, Erase…"),
)


def _licence(distribution: str) -> str:
    try:
        meta = metadata.metadata(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"
    expression = (meta.get_all("License-Expression") or [""])[0]
    if expression:
        return expression
    classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    if classifiers:
        return ", ".join(classifiers)
    text = (meta.get_all("License") or [""])[0].strip().splitlines()
    return text[0][:80] if text else "see the package"


def versions() -> list[tuple[str, str, str]]:
    """(library, version, licence) for every bundled library that is installed."""
    rows = []
    for name in LIBRARIES:
        try:
            rows.append((name, metadata.version(name), _licence(name)))
        except metadata.PackageNotFoundError:
            continue
    return rows


def about_text() -> str:
    lines = [
        f"{APP_NAME} {__version__}",
        f"Python {platform.python_version()} on {platform.system()} {platform.release()} ({sys.platform})",
        f"Qt {qVersion()}, PySide6 {PySide6.__version__}",
        "",
        QT_LGPL_NOTICE.format(qt=qVersion(), pyside=PySide6.__version__),
        "",
        "Bundled libraries (version, licence):",
    ]
    lines += [f"  {name} {version} — {licence}" for name, version, licence in versions()]
    return "\n".join(lines)


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        self.text = QPlainTextEdit(about_text())
        self.text.setReadOnly(True)
        self.text.setTabChangesFocus(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        resize_within_screen(self, 640, 460)


def shortcut_rows(window: QMainWindow) -> list[tuple[str, str]]:
    """Every menu action with a shortcut, as the menus show it, then the keys widgets handle themselves."""
    rows: list[tuple[str, str]] = []

    def walk(menu: QMenu, trail: str) -> None:
        for action in menu.actions():
            if isinstance(sub := action.menu(), QMenu):
                walk(sub, f"{trail} → {action.text().replace('&', '')}")
            elif not action.isSeparator():
                keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
                if keys:
                    rows.append((keys, f"{trail} → {action.text().replace('&', '')}"))

    for action in window.menuBar().actions():
        if isinstance(menu := action.menu(), QMenu):
            walk(menu, action.text().replace("&", ""))
    return rows + list(WIDGET_SHORTCUTS)


class ShortcutsDialog(QDialog):
    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(("Keys", "Does"))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (keys, does) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(keys))
            self.table.setItem(row, 1, QTableWidgetItem(does))
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        resize_within_screen(self, 620, 440)


class UserGuideDialog(QDialog):
    """The shipped Markdown guide in a QTextBrowser: no browser, no network; links to other files stay local."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{APP_NAME} user guide")
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(False)  # offline: a web link is shown, not followed
        self.browser.setOpenLinks(True)
        guide = paths.user_guide()
        if guide.is_file():
            self.browser.setSearchPaths([str(guide.parent)])
            self.browser.setSource(QUrl.fromLocalFile(str(guide)), QTextDocument.ResourceType.MarkdownResource)
        else:
            self.browser.setPlainText(f"The user guide is not in this installation (looked for {guide}).")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        resize_within_screen(self, 900, 520)  # fits 960×540, a 1920×1080 screen at 200 %


def build_help_menu(window: QMainWindow) -> list[QAction]:
    """Adds Help to the window's menu bar; returns its actions (all usable while the window is locked)."""
    menu = window.menuBar().addMenu("&Help")
    opened: dict[str, QDialog] = {}

    def show(key: str, make: Callable[[QMainWindow], QDialog]) -> None:
        if key in opened:
            opened[key].deleteLater()
        dialog = make(window)
        opened[key] = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        dialog.open()

    guide = menu.addAction("&User guide", lambda: show("guide", UserGuideDialog))
    guide.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.HelpContents) or [QKeySequence("F1")])
    keys = menu.addAction("&Keyboard shortcuts", lambda: show("keys", ShortcutsDialog))
    menu.addSeparator()
    about = menu.addAction(f"&About {APP_NAME}", lambda: show("about", AboutDialog))
    about.setMenuRole(QAction.MenuRole.AboutRole)
    about_qt = menu.addAction("About &Qt", lambda: QMessageBox.aboutQt(window))
    about_qt.setMenuRole(QAction.MenuRole.AboutQtRole)
    window.help_dialogs = opened  # type: ignore[attr-defined]  # for tests: the dialogs that were opened
    return [guide, keys, about, about_qt]
