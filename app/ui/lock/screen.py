"""The lock screen that replaces the window's content while Custos is locked.

Two states, as in KeePassXC: UI locked (the vault stays open; the SCIM endpoint and provisioning keep running)
and vault closed (the key is gone from memory; the endpoint answers 503 and no job runs). Unlocking checks the
passphrase in a worker: against the open vault's key, or by reopening the closed vault.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.core.errors import CustosError, WrongPassphrase
from app.services.vault import reopen_vault
from app.store.vault import Vault
from app.ui.passphrase_field import PassphraseRow
from app.ui.theme import tint
from app.ui.workers import submit

OPEN_NOTE = "The vault is open: the SCIM endpoint and provisioning keep running while the window is locked."
LOCKED_TITLE = "Custos is locked"
CLOSED_TITLE = "The vault is closed"
BOX_WIDTH = 500
CLOSED_NOTE = "The vault is closed: the key is not in memory, the SCIM endpoint answers 503 and nothing runs."


class LockScreen(QWidget):
    unlocked = Signal()
    close_requested = Signal()

    def __init__(self, vault: Vault, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vault = vault
        self.title = title = QLabel(LOCKED_TITLE)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        title.setFont(font)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.closed_badge = QLabel("Key not in memory · SCIM endpoint answers 503 · jobs paused")
        bold = self.closed_badge.font()
        bold.setBold(True)
        self.closed_badge.setFont(bold)
        tint(self.closed_badge, "warning")
        self.closed_badge.hide()
        self.passphrase_row = PassphraseRow()
        self.passphrase = self.passphrase_row.edit
        self.passphrase.setPlaceholderText("Passphrase")
        self.passphrase.returnPressed.connect(self.unlock)
        self.unlock_button = QPushButton("&Unlock")
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self.unlock)
        self.close_button = QPushButton("&Close the vault")
        self.close_button.setToolTip("Drop the key from memory: the SCIM endpoint answers 503 until you unlock.")
        self.close_button.clicked.connect(self.close_requested)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)

        row = QHBoxLayout()
        row.addWidget(self.passphrase_row, 1)
        row.addWidget(self.unlock_button, 0, Qt.AlignmentFlag.AlignTop)
        box = QWidget()
        # A fixed width: with only a maximum, the centred box took its size hint's width and the wrapped note
        # was given the height of one line, clipped to "two half-lines" (issue 14 §6).
        box.setFixedWidth(BOX_WIDTH)
        inner = QVBoxLayout(box)
        inner.addWidget(title)
        inner.addWidget(self.closed_badge)
        inner.addWidget(self.note)
        inner.addLayout(row)
        inner.addWidget(self.message)
        inner.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        centred = QHBoxLayout()  # stretches, not AlignHCenter: an aligned item gets no height-for-width
        centred.addStretch(1)
        centred.addWidget(box)
        centred.addStretch(1)
        layout.addLayout(centred)
        layout.addStretch(2)
        self._busy = False

    def prepare(self) -> None:
        """Called each time the screen is shown: a fresh field, the state of the vault, focus to type."""
        self.passphrase.clear()
        self.passphrase_row.hide_text()
        self.message.clear()
        opened = self.vault.is_open
        self.note.setText(OPEN_NOTE if opened else CLOSED_NOTE)
        # Locked and closed must not look alike: a different title, and closed with a badge in the warning colour.
        self.title.setText(LOCKED_TITLE if opened else CLOSED_TITLE)
        self.closed_badge.setVisible(not opened)
        self.close_button.setVisible(self.vault.is_open)
        self.unlock_button.setEnabled(True)
        self.passphrase.setEnabled(True)
        self.passphrase.setFocus()

    def unlock(self) -> None:
        passphrase = self.passphrase.text()
        self.passphrase.clear()  # the text lives no longer than needed
        if not passphrase or self._busy:
            return
        self._busy = True
        self.unlock_button.setEnabled(False)
        self.passphrase.setEnabled(False)
        self.message.setText("Checking…")
        submit(lambda: self._check(passphrase), self._checked, self._failed)

    def _check(self, passphrase: str) -> bool:
        if self.vault.is_open:
            return self.vault.verify_passphrase(passphrase)
        reopen_vault(self.vault, passphrase)  # raises WrongPassphrase
        return True

    def _checked(self, ok: bool) -> None:
        self._busy = False
        self.unlock_button.setEnabled(True)
        self.passphrase.setEnabled(True)
        if ok:
            self.message.clear()
            self.unlocked.emit()
        else:
            self._wrong()

    def _wrong(self) -> None:
        self.message.setText("That passphrase does not unlock this vault.")
        self.passphrase.setFocus()

    def _failed(self, exc: Exception) -> None:
        self._busy = False
        self.unlock_button.setEnabled(True)
        self.passphrase.setEnabled(True)
        if isinstance(exc, WrongPassphrase):
            self._wrong()
        else:
            self.message.setText(exc.user_message if isinstance(exc, CustosError) else "The vault could not be opened.")
