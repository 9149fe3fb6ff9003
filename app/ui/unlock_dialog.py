"""Unlock the vault (the first-run assistant creates it). The KDF runs on the thread pool, form disabled."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import CustosError, VaultCorrupt, WrongPassphrase
from app.services.vault import unlock_vault_with_key
from app.store.vault import (
    Vault,
    forget_keyring,
    key_from_keyring,
    keyring_available,
)
from app.ui.passphrase_field import PassphraseRow, remember_key_box
from app.ui.theme import tint
from app.ui.widgets import text_label
from app.ui.workers import submit

log = logging.getLogger(__name__)

PREFERRED_WIDTH = 420


def _remembered(vault: Vault, remember: bool) -> Vault:
    if remember and not vault.remember_in_keyring():
        log.warning("the system keyring is not available; the passphrase will be asked next time")
    return vault


def unlock_from_keyring(data_dir: Path) -> Vault | None:
    """Open the vault with a key remembered in the OS keyring; a stale key is forgotten."""
    if not Vault.exists(data_dir):
        return None
    key = key_from_keyring(data_dir)
    if key is None:
        return None
    try:
        return unlock_vault_with_key(data_dir, key)
    except WrongPassphrase:
        forget_keyring(data_dir)  # the passphrase changed since; ask for it
        return None
    except VaultCorrupt:  # the key is right: keep it; the dialog tells what is damaged and what to do
        log.error("the vault is damaged; asking for the passphrase to show what to do")
        return None


class UnlockDialog(QDialog):
    """Unlock an existing vault (the first-run assistant creates it). On acceptance ``vault`` holds the open
    vault; the caller owns it from then on."""

    def __init__(self, data_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.vault: Vault | None = None
        self._busy = False

        self.passphrase_row = PassphraseRow()
        self.passphrase = self.passphrase_row.edit
        self.error = text_label()
        self.error.setObjectName("error")
        tint(self.error, "error")
        self.error.hide()
        self.status = text_label()
        self.remember, self.remember_note = remember_key_box()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.submit_button = self.buttons.addButton("&Unlock", QDialogButtonBox.ButtonRole.AcceptRole)
        # Cancel must never be what Enter presses (it quits the app). setDefault before the box sits in the dialog
        # is forgotten: on show the box made Cancel, its first auto-default button, the default. So Cancel is not
        # an auto-default button at all, and Unlock is made the default again once the dialog is shown.
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Passphrase", self.passphrase_row)
        self.setWindowTitle("Unlock Custos")
        layout = QVBoxLayout(self)
        layout.addWidget(text_label("Type the passphrase of the vault to open it."))
        layout.addLayout(form)
        layout.addWidget(self.remember)
        layout.addWidget(self.remember_note)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def sizeHint(self) -> QSize:
        """420 px wide where the screen allows. A fixed minimum width would override the layout's own minimum, and
        Qt opens a dialog at most two thirds of the screen wide (426 px at 640): what did not fit was cut."""
        hint = super().sizeHint()
        return hint.expandedTo(QSize(PREFERRED_WIDTH, 0))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.submit_button.setDefault(True)
        self.passphrase.setFocus()

    # -- actions -------------------------------------------------------------------------------------
    def submit(self) -> None:
        if self._busy:
            return
        passphrase = self.passphrase.text()
        if not passphrase:
            self._fail("Type the passphrase.")
            return
        directory, remember = self.data_dir, self.remember.isChecked()
        self._start("Checking the passphrase…")
        submit(
            lambda: _remembered(unlock_vault_with_key(directory, Vault.derive_key(directory, passphrase)), remember),
            self._opened,
            self._failed,
        )

    def reject(self) -> None:
        if not self._busy:  # a vault opened after the dialog closed would have no owner
            super().reject()

    # -- results -------------------------------------------------------------------------------------
    def _opened(self, vault: Vault) -> None:
        self._busy = False
        self.vault = vault
        self.passphrase.clear()
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self._set_enabled(True)
        self._busy = False
        self.status.clear()
        if isinstance(exc, CustosError):
            message = exc.user_message
        else:
            log.error("opening the vault failed: %s", type(exc).__name__)  # never the passphrase
            message = "The vault could not be opened. The log has the technical details."
        if isinstance(exc, WrongPassphrase):
            self.passphrase.clear()
            self.passphrase_row.hide_text()
        self._fail(message)

    # -- helpers -------------------------------------------------------------------------------------
    def _start(self, status: str) -> None:
        self._busy = True
        self._set_enabled(False)
        self.error.hide()
        self.status.setText(status)

    def _set_enabled(self, enabled: bool) -> None:
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        for widget in (self.passphrase_row, self.submit_button, cancel):
            widget.setEnabled(enabled)
        self.remember.setEnabled(enabled and keyring_available())

    def _fail(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        self.passphrase.setFocus()
