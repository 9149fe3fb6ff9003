"""Vault → Change passphrase…: re-keys the database (SQLCipher PRAGMA rekey) in a worker."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.core.errors import CustosError
from app.store.vault import Vault, forget_keyring
from app.ui.passphrase_field import PassphraseRow
from app.ui.workers import submit


def _secret_field(name: str) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setAccessibleName(name)
    return field


class ChangePassphraseDialog(QDialog):
    def __init__(self, vault: Vault, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vault = vault
        self.setWindowTitle("Change the vault passphrase")
        self.current = _secret_field("Current passphrase")
        self.new_row = PassphraseRow(meter=True, accessible_name="New passphrase")
        self.new = self.new_row.edit
        self.confirmation = _secret_field("New passphrase again")
        self.message = QLabel("The whole vault is re-encrypted with the new key; the keyring shortcut, if any, is "
                              "forgotten.")  # fmt: skip
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.change)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Current", self.current)
        form.addRow("New", self.new_row)
        form.addRow("New, again", self.confirmation)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def change(self) -> None:
        current, new, again = self.current.text(), self.new.text(), self.confirmation.text()
        for field in (self.current, self.new, self.confirmation):
            field.clear()
        self.buttons.setEnabled(False)
        self.message.setText("Re-encrypting the vault…")
        vault = self.vault

        def work() -> None:
            vault.change_passphrase(current, new, again)
            forget_keyring(vault.path.parent)  # the stored key no longer opens the vault

        submit(work, self._changed, self._failed)

    def _changed(self, _result: object) -> None:
        self.buttons.setEnabled(True)
        self.message.setText("Passphrase changed.")
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self.buttons.setEnabled(True)
        self.message.setText(exc.user_message if isinstance(exc, CustosError) else "The passphrase was not changed.")
