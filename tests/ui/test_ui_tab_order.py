"""Tab leaves every table of the main window in one press (decision 0023: "every read-only table lets Tab leave
it"). Tables with Qt's default Tab navigation walked every cell instead: the Policy catalogue took some eighty
presses, the Identities list of 10,000 users fifty thousand, a trap for anyone without a mouse."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import QAbstractItemView, QApplication
from pytestqt.qtbot import QtBot
from ui_support import insert_rows, user_row

from app.core.events import EventBus
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.store.vault import Vault
from app.ui.main_window import MainWindow


@pytest.fixture
def window(vault: Vault, data_dir: Path, qtbot: QtBot) -> Iterator[MainWindow]:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    insert_rows(vault, [user_row(f"person{index}", f"Person {index}", when) for index in range(3)])
    bus, tokens = EventBus(), TokenStore(vault)
    main = MainWindow(vault, ScimServer(vault, tls=ensure_self_signed(data_dir), bus=bus, tokens=tokens), bus, tokens)
    qtbot.addWidget(main)
    main.show()
    main.activateWindow()
    qtbot.waitUntil(main.isActiveWindow)
    yield main
    main.shutdown()


def test_one_tab_leaves_every_table(window: MainWindow, qtbot: QtBot) -> None:
    trapped = []
    for index in range(window.pages.count()):
        window.pages.setCurrentIndex(index)
        for _ in range(3):
            QThreadPool.globalInstance().waitForDone(10_000)
            qtbot.wait(20)
        page = window.pages.widget(index)
        for table in page.findChildren(QAbstractItemView):
            if not table.isVisibleTo(page) or not table.focusPolicy() & Qt.FocusPolicy.TabFocus:
                continue
            table.setFocus()
            if table.model() is not None and table.model().rowCount():
                table.setCurrentIndex(table.model().index(0, 0))
            qtbot.keyClick(table, Qt.Key.Key_Tab)
            if QApplication.focusWidget() is table:
                trapped.append(f"{window.pages.tabText(index)}: {table.accessibleName() or type(table).__name__}")
    assert trapped == []


def test_ctrl_tab_walks_every_page_and_back(window: MainWindow, qtbot: QtBot) -> None:
    """Before (walked in a real window): on the Identities page Ctrl+Tab went to Groups, then back to Users, and
    never on to Policy; the inner tabs kept it, and the pages after Identities were out of its reach. Now the inner
    tabs pass it on from their last (first, with Shift) tab: Ctrl+Tab walks Users, Groups, then the next page."""
    pages, identities = window.pages, window.identities
    pages.setCurrentIndex(0)
    pages.currentWidget().setFocus()
    seen = []
    for _ in range(pages.count() + 1):
        current = pages.currentWidget()
        seen.append(pages.tabText(pages.currentIndex()) + (f"/{identities.tabText(identities.currentIndex())}"
                                                            if current is identities else ""))  # fmt: skip
        qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    expected = [pages.tabText(i) for i in range(pages.count())]
    walked = [name.split("/")[0] for name in seen]
    assert [name for name in dict.fromkeys(walked)] == expected, seen
    assert "Identities/Users" in seen and "Identities/Groups" in seen, seen

    back = []
    for _ in range(pages.count() + 1):
        back.append(pages.currentIndex())
        qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Backtab,
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)  # fmt: skip
    assert set(back) == set(range(pages.count())), back
