"""The Users table's menu (Export subject data…, Erase…) opened from the keyboard acts on the row the operator
selected: the Menu key reports a point in the table's own coordinates, not the viewport's, and the row under it
is the next one down (an erasure of the wrong person, named only in the dialog's first line)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu, QWidget
from pytestqt.qtbot import QtBot
from ui_support import insert_rows, user_row

from app.store.vault import Vault
from app.ui.identities.view import ResourceBrowser

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def menu_key(widget: QWidget) -> None:
    """What Qt sends the focused widget for the Menu key (QWidgetWindow): a keyboard context-menu event at the
    centre of the widget's cursor rectangle, in the widget's own coordinates. QTest's key clicks skip that step."""
    point = widget.inputMethodQuery(Qt.InputMethodQuery.ImCursorRectangle).center()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, point, widget.mapToGlobal(point))
    QApplication.sendEvent(widget, event)


def browser_with_users(
    vault: Vault, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> tuple[ResourceBrowser, list[str]]:
    insert_rows(vault, [user_row(f"u{n}@example.org", f"User {n}", NOW) for n in range(4)])
    browser = ResourceBrowser(vault, "User")
    qtbot.addWidget(browser)
    browser.resize(900, 500)
    browser.show()
    qtbot.waitUntil(lambda: browser.model.rowCount() == 4)
    erased: list[str] = []
    monkeypatch.setattr(browser, "erase_subject", lambda row: erased.append(browser.model.row_id(row)))

    def choose_erase() -> None:  # in the menu, as the operator would: Erase…
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        next(a for a in menu.actions() if a.text().replace("&", "") == "Erase…").trigger()
        menu.close()

    QTimer.singleShot(0, choose_erase)
    browser.table.setFocus()
    browser.table.selectRow(1)  # by the users' order on screen, the second
    return browser, erased


def test_the_menu_key_erases_the_selected_user(vault: Vault, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    browser, erased = browser_with_users(vault, qtbot, monkeypatch)
    menu_key(browser.table)
    assert erased == [browser.model.row_id(1)]


def test_shift_f10_opens_the_menu_too(vault: Vault, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Laptop keyboards have no Menu key, and Qt gives Shift+F10 no meaning on Linux: Erase… had no key at all."""
    browser, erased = browser_with_users(vault, qtbot, monkeypatch)
    qtbot.keyClick(browser.table, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    assert erased == [browser.model.row_id(1)]


def test_the_erasure_dialog_stays_with_the_users_page(qtbot: QtBot, running: tuple[object, object]) -> None:
    """The erasure dialog is a window of its own: left open, it floated over every other page. It goes with the
    Users page and comes back with it (app/ui/page_bound.py, as the reconcile report)."""
    from app.ui.main_window import MainWindow

    window, _server = running
    assert isinstance(window, MainWindow)
    insert_rows(window.vault, [user_row("u1@example.org", "User 1", NOW)])
    window.show_page(window.pages.indexOf(window.identities))
    browser = window.identities.users
    window.identities.reload()
    qtbot.waitUntil(lambda: browser.model.rowCount() == 1, timeout=5000)
    dialog = browser.erase_subject(0)
    qtbot.waitExposed(dialog)
    window.show_page(0)  # the Overview
    assert not dialog.isVisible()
    window.show_page(window.pages.indexOf(window.identities))
    assert dialog.isVisible()
    dialog.reject()
    window.show_page(0)
    window.show_page(window.pages.indexOf(window.identities))
    assert not dialog.isVisible()


def test_erase_chosen_from_the_menu_gets_the_keyboard(vault: Vault, qtbot: QtBot) -> None:
    """Before (walked in a real X window): Shift+F10, Erase… opened the erasure dialog, but the keyboard stayed with
    the Users table behind it: the dialog was shown while the menu still held the keyboard, and as the menu let go,
    X gave the keyboard back to the window the menu was opened over; the confirmation typed went to the table's
    type-ahead. Now the dialog asks for the keyboard again once the menu has closed."""
    from app.ui.erasure.dialog import ErasureDialog

    insert_rows(vault, [user_row(f"u{n}@example.org", f"User {n}", NOW) for n in range(2)])
    browser = ResourceBrowser(vault, "User")
    qtbot.addWidget(browser)
    browser.resize(900, 500)
    browser.show()
    browser.activateWindow()
    qtbot.waitUntil(browser.isActiveWindow)
    qtbot.waitUntil(lambda: browser.model.rowCount() == 2)

    dialog = browser.erase_subject(0)  # what the menu's Erase… runs, while the menu is still up
    browser.activateWindow()  # what X did as the menu closed (offscreen Qt has no menu grab to let go of)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=3000)
    assert isinstance(dialog, ErasureDialog)
    dialog.close()
