"""No page's Alt+letter is also the menu bar's, nor twice on one page: Qt treats an Alt+letter that two widgets of
the window claim as ambiguous and only moves the focus between them, so neither the button nor the menu opens
(Overview's Re&view… and &Verify the audit trail now both took the &Vault menu's Alt+V)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from PySide6.QtWidgets import QAbstractButton, QGroupBox, QLabel, QWidget
from pytestqt.qtbot import QtBot

from app.core.events import EventBus
from app.scim.server import ScimServer
from app.setup.tls import ensure_self_signed
from app.setup.tokens import TokenStore
from app.store.vault import Vault
from app.ui.action_bar import mnemonic
from app.ui.main_window import MainWindow


def _keys(page: QWidget) -> list[str]:
    """The Alt+letters of a page's buttons, group boxes and labels (a label's goes to its buddy)."""
    keys = []
    for kind in (QAbstractButton, QGroupBox, QLabel):
        for widget in page.findChildren(kind):
            text = widget.title() if isinstance(widget, QGroupBox) else widget.text()
            letter = mnemonic(text) if "&" in text.replace("&&", "") else None
            if letter:
                keys.append(letter.upper())
    return keys


def test_no_page_key_is_the_menu_bar_s_or_used_twice(qtbot: QtBot, vault: Vault, data_dir: Path) -> None:
    bus, tokens = EventBus(), TokenStore(vault)
    server = ScimServer(vault, tls=ensure_self_signed(data_dir), bus=bus, tokens=tokens)
    window = MainWindow(vault, server, bus, tokens)
    qtbot.addWidget(window)
    menus = {mnemonic(action.text()).upper() for action in window.menuBar().actions()}
    clashes = []
    for index in range(window.pages.count()):
        page = window.pages.widget(index)
        keys = _keys(page) + [a.shortcut().toString().removeprefix("Alt+") for a in page.actions()
                              if a.shortcut().toString().startswith("Alt+")]  # fmt: skip
        twice = sorted(key for key, n in Counter(keys).items() if n > 1)
        menu = sorted(set(keys) & menus)
        if twice or menu:
            clashes.append(f"{type(page).__name__}: twice {twice}, menu bar {menu}")
    window.shutdown()
    assert not clashes, "; ".join(clashes)
