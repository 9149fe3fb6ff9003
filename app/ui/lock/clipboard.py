"""The clipboard as Custos uses it for secrets: cleared on lock, and after a while, if it still holds ours."""

from __future__ import annotations

import hashlib

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QGuiApplication

CLEAR_AFTER_MS = 30_000


class SecretClipboard(QObject):
    """Remembers a hash of what Custos put on the clipboard, never the text, and clears only that."""

    def __init__(self, clear_after_ms: int = CLEAR_AFTER_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ours: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._clear_after_ms = max(1, clear_after_ms)
        self._timer.timeout.connect(self.clear_if_ours)

    @property
    def clear_after_ms(self) -> int:
        return self._clear_after_ms

    def set_clear_after_ms(self, milliseconds: int) -> None:
        """The delay for later copies; a pending clear comes no later than the new delay from now."""
        self._clear_after_ms = max(1, milliseconds)
        if self._timer.isActive():
            self._timer.start(min(self._timer.remainingTime(), self._clear_after_ms))

    @staticmethod
    def _digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    def copy(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self._ours = self._digest(text)
        self._timer.start(self._clear_after_ms)

    def clear_if_ours(self) -> bool:
        """Clear the clipboard when it still holds what Custos put there; something the user copied stays."""
        self._timer.stop()
        clipboard = QGuiApplication.clipboard()
        if self._ours is not None and self._digest(clipboard.text()) == self._ours:
            clipboard.clear()
            self._ours = None
            return True
        self._ours = None
        return False


_shared: SecretClipboard | None = None


def secret_clipboard() -> SecretClipboard:
    global _shared
    if _shared is None:
        _shared = SecretClipboard()
    return _shared
