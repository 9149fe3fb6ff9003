"""The status bar's messages (notices without a tray, alerts, what a page reports), readable in full at any width.

QStatusBar draws a temporary message in the room its permanent widgets leave and cuts it mid-word where that ends:
at 640 px a breach-clock notice lost its deadline. Here a message that does not fit is elided ("…") to the room
left, again on every resize; the whole text is the status bar's tooltip while it is shown, and every message of
the session stays readable, whole and wrapped, in the Recent messages window (View menu, or a click on the status
bar). Messages name rules, counts, incident numbers and request ids, as the notices do: no personal value.
"""

from __future__ import annotations

import time
from collections import deque
from datetime import datetime
from html import escape

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QStatusBar, QVBoxLayout, QWidget

KEPT = 50  # messages kept for the Recent messages window (this session only, in memory)
PADDING = 12  # QStatusBar draws a message 6 px in from each side of its room
HINT = "The whole message; every message of this session: View → Recent messages (or click here)."


class StatusLine(QObject):
    """Says messages in ``bar``, left of its permanent widgets; keeps the session's last ``KEPT`` of them."""

    def __init__(self, bar: QStatusBar, permanent: list[QWidget], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bar = bar
        self.permanent = permanent
        self.history: deque[tuple[datetime, str]] = deque(maxlen=KEPT)
        self.text = ""  # the whole message shown now ("" when none)
        self._until = 0.0  # time.monotonic() at which it goes
        self.dialog: RecentMessages | None = None
        bar.messageChanged.connect(self._changed)
        bar.installEventFilter(self)

    def say(self, text: str, timeout_ms: int) -> None:
        self.history.append((datetime.now().astimezone(), text))
        self.text = text
        self._until = time.monotonic() + timeout_ms / 1000
        self._show()
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.fill(self.history)

    def room(self) -> int:
        """The width a message may take: up to the first permanent widget shown."""
        shown = [w.geometry().left() for w in self.permanent if w.isVisible()]
        return max(0, min(shown, default=self.bar.width()) - PADDING)

    def _show(self) -> None:
        left = int((self._until - time.monotonic()) * 1000)
        if not self.text or left <= 0:
            return
        metrics = self.bar.fontMetrics()
        # Hidden (in the tray, not yet shown), the bar has no room to measure: whole, elided on the first resize.
        room = self.room() if self.bar.isVisible() else metrics.horizontalAdvance(self.text)
        elided = metrics.elidedText(self.text, Qt.TextElideMode.ElideRight, room)
        if elided != self.bar.currentMessage():
            self.bar.showMessage(elided, left)
        # Rich text, so that Qt wraps it: a long message in one line ran off a 960-pixel screen at 200 %.
        self.bar.setToolTip(f"<p>{escape(self.text)}</p><p><i>{HINT}</i></p>" if elided != self.text else "")

    def _changed(self, message: str) -> None:
        if not message:  # timed out, or cleared
            self.text = ""
            self.bar.setToolTip("")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.bar and self.text:
            if event.type() == QEvent.Type.Resize:
                self._show()  # the room changed: elide again (or show it whole)
            elif (
                isinstance(event, QMouseEvent)
                and event.type() == QEvent.Type.MouseButtonRelease
                and event.position().x() < self.room() + PADDING  # on the message, not on the vault line
            ):
                self.open_recent()
        return False

    def open_recent(self) -> RecentMessages:
        if self.dialog is None:
            self.dialog = RecentMessages(self.bar.window())
        self.dialog.fill(self.history)
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
        return self.dialog


class RecentMessages(QDialog):
    """Every message of the session, newest first, whole and wrapped (a narrow window cut them in the status bar)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recent messages")
        self.view = QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setAccessibleName("Recent messages, newest first")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        self.resize(520, 260)

    def fill(self, history: deque[tuple[datetime, str]]) -> None:
        lines = [f"{at:%H:%M:%S}  {text}" for at, text in reversed(history)]
        self.view.setPlainText("\n".join(lines) if lines else "No message yet in this session.")
