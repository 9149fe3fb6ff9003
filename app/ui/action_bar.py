"""A row of command buttons that never cuts a label: what does not fit goes into the row's » menu.

A grid of push buttons needs its full height and width at every size: at 640×480 the Incidents page's four rows
of buttons cut their labels and left the table no room. A QToolBar lays the same commands out in one row and
moves those that do not fit into its extension menu, so a narrow window keeps every command, whole.

Each command keeps its Alt+letter key (the ``&`` of its label) on the page, whether its button is shown or in
the » menu: toolbar buttons do not underline mnemonics, so the key is in the tooltip instead.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QSizePolicy, QToolBar, QToolButton, QWidget


def mnemonic(text: str) -> str | None:
    """The letter after a single ``&`` (``&&`` is a literal ampersand), or None."""
    index = 0
    while (index := text.find("&", index)) >= 0 and index + 1 < len(text):
        if text[index + 1] != "&":
            return text[index + 1].upper()
        index += 2
    return None


class ActionBar(QToolBar):
    def __init__(self, name: str, keys_on: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(name, parent)
        self.keys_on = keys_on  # the page whose focus the Alt+letter keys follow
        self.setAccessibleName(name)
        self.setMovable(False)
        self.setFloatable(False)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)  # narrower than all: the » menu
        self.setContentsMargins(0, 0, 0, 0)
        layout = self.layout()
        assert layout is not None  # a QToolBar always has its layout
        layout.setContentsMargins(0, 0, 0, 0)  # a row of buttons, not a window's toolbar: no padding

    def add(self, text: str, slot: Callable[[], None]) -> QToolButton:
        """A command as a button (a raised one: it must look pressable); enable it through its action."""
        action = QAction(text, self)
        action.triggered.connect(lambda _checked=False: slot())
        letter = mnemonic(text)
        plain = text.replace("&&", "\0").replace("&", "").replace("\0", "&")
        if letter:
            action.setShortcut(QKeySequence(f"Alt+{letter}"))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.keys_on.addAction(action)  # the key works anywhere on the page, also from the » menu's commands
        action.setIconText(plain)  # the default strips a trailing "…", which says that a dialog follows
        action.setToolTip(f"{plain} (Alt+{letter})" if letter else plain)
        self.addAction(action)
        button = self.widgetForAction(action)
        assert isinstance(button, QToolButton)
        button.setAutoRaise(False)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # toolbar buttons are out of the Tab order by default
        return button
