"""Create the vault on first run, unlock it afterwards. The KDF runs on the thread pool, form disabled."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import CustosError, VaultError, WrongPassphrase
from app.store.vault import (
    MIN_PASSPHRASE_LENGTH,
    Vault,
    check_new_passphrase,
    forget_keyring,
    key_from_keyring,
)
from app.ui.theme import tint
from app.ui.workers import submit

log = logging.getLogger(__name__)


def _label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


def _secret_field() -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)  # no IME history of the passphrase
    return field


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
        return Vault.unlock_with_key(data_dir, key)
    except WrongPassphrase:
        forget_keyring(data_dir)  # the passphrase changed since; ask for it
        return None


class UnlockDialog(QDialog):
    """On acceptance ``vault`` holds the open vault; the caller owns it from then on."""

    def __init__(self, data_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.vault: Vault | None = None
        self.creating = not Vault.exists(data_dir)
        self._busy = False

        self.passphrase = _secret_field()
        self.confirmation = _secret_field()
        self.error = _label()
        self.error.setObjectName("error")
        tint(self.error, "error")
        self.error.hide()
        self.status = _label()
        self.remember = QCheckBox("Remember the key in the system keyring (unlock without typing)")
        self.remember.setToolTip(
            "Stores the derived vault key, never the passphrase, in the operating system's keyring. "
            "Anyone who can use your session can then open the vault."
        )
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.submit_button = self.buttons.addButton(
            "Create vault" if self.creating else "Unlock", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.submit_button.setDefault(True)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Passphrase", self.passphrase)
        if self.creating:
            self.setWindowTitle("Create the Custos vault")
            intro = (
                "Custos keeps every identity it receives in an encrypted vault on this computer. "
                f"Choose a passphrase of at least {MIN_PASSPHRASE_LENGTH} characters. It cannot be recovered: "
                "without it the vault stays unreadable."
            )
            form.addRow("Repeat it", self.confirmation)
        else:
            self.setWindowTitle("Unlock Custos")
            intro = "Type the passphrase of the vault to open it."
            self.confirmation.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(_label(intro))
        layout.addLayout(form)
        layout.addWidget(self.remember)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)

    # -- actions -------------------------------------------------------------------------------------
    def submit(self) -> None:
        if self._busy:
            return
        passphrase = self.passphrase.text()
        if self.creating:
            confirmation = self.confirmation.text()
            try:
                check_new_passphrase(passphrase, confirmation)
            except VaultError as exc:
                self._fail(exc.user_message, clear_first=passphrase == confirmation)
                return
            directory, remember = self.data_dir, self.remember.isChecked()
            self._start("Creating the vault…")
            submit(
                lambda: _remembered(Vault.create(directory, passphrase, confirmation), remember),
                self._opened,
                self._failed,
            )
        else:
            if not passphrase:
                self._fail("Type the passphrase.", clear_first=False)
                return
            directory, remember = self.data_dir, self.remember.isChecked()
            self._start("Checking the passphrase…")
            submit(
                lambda: _remembered(
                    Vault.unlock_with_key(directory, Vault.derive_key(directory, passphrase)), remember
                ),
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
        self.confirmation.clear()
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
        self._fail(message, clear_first=isinstance(exc, WrongPassphrase) or self.creating)

    # -- helpers -------------------------------------------------------------------------------------
    def _start(self, status: str) -> None:
        self._busy = True
        self._set_enabled(False)
        self.error.hide()
        self.status.setText(status)

    def _set_enabled(self, enabled: bool) -> None:
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        for widget in (self.passphrase, self.confirmation, self.remember, self.submit_button, cancel):
            widget.setEnabled(enabled)

    def _fail(self, message: str, clear_first: bool) -> None:
        self.error.setText(message)
        self.error.show()
        self.confirmation.clear()
        if clear_first:
            self.passphrase.clear()
        (self.passphrase if clear_first or not self.creating else self.confirmation).setFocus()
