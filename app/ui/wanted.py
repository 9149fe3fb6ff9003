"""The row a tray notice named (an incident, a request): selected once the page has read its register again.

A page reads its register in a worker, so a read already under way when the notice is clicked may predate a change
made meanwhile (the incident closed, the request erased by retention): only a read started after the click may
answer it. Then the row is selected, scrolled to the middle and given the keyboard focus, so that the arrow keys
and the page's shortcuts act on it."""

from __future__ import annotations

from typing import Generic, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QTableWidget

Key = TypeVar("Key")


class Wanted(Generic[Key]):
    def __init__(self) -> None:
        self.reads = 0  # reads of the register started so far
        self.key: Key | None = None
        self._after = 0  # the first read that may answer ``key``
        self.shown = 0  # the newest read whose result the page shows

    def outdated(self, read: int) -> bool:
        """Whether the result of ``read`` is older than one already shown (the pool runs reads at once, and one
        begun before a change can finish after the read made for it): the page drops it. Otherwise it is shown."""
        if read < self.shown:
            return True
        self.shown = read
        return False

    def next_read(self) -> int:
        """Number a read as it starts; the page hands the number back with the result."""
        self.reads += 1
        return self.reads

    def ask(self, key: Key) -> None:
        self.key = key
        self._after = self.reads + 1

    def take(self, read: int) -> Key | None:
        """The key to select, once, from the result of ``read``; None before a fresh read or when none is wanted."""
        if self.key is None or read < self._after:
            return None
        key, self.key = self.key, None
        return key


def focus_row(table: QTableWidget, row: int) -> None:
    """Select ``row`` as the current one (the keyboard's row, not only the highlight), in view, with the focus."""
    table.selectRow(row)
    item = table.item(row, 0)
    if item is not None:
        table.setCurrentItem(item)
        table.scrollToItem(item, QAbstractItemView.ScrollHint.PositionAtCenter)
    table.setFocus(Qt.FocusReason.OtherFocusReason)
