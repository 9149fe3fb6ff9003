"""Asking for the passphrase again before a dangerous action (erasure, export of personal data, a new token,
applying a policy): whoever sits at an unlocked, unattended workstation cannot do those."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.store.vault import Vault
from app.ui.workers import submit

Reauthenticate = Callable[[QWidget, str], bool]


class ReauthDialog(QDialog):
    def __init__(self, vault: Vault, action: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vault = vault
        self.setWindowTitle("Confirm it is you")
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName("Passphrase")
        self.message = QLabel()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.check)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Enter the vault passphrase to {action}."))
        layout.addWidget(self.passphrase)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def check(self) -> None:
        passphrase = self.passphrase.text()
        self.passphrase.clear()
        if not passphrase:
            return
        self.buttons.setEnabled(False)
        self.message.setText("Checking…")
        submit(lambda: self.vault.verify_passphrase(passphrase), self._checked, self._failed)

    def _checked(self, ok: bool) -> None:
        self.buttons.setEnabled(True)
        if ok:
            self.accept()
        else:
            self.message.setText("That is not the vault's passphrase.")

    def _failed(self, _exc: Exception) -> None:
        self.buttons.setEnabled(True)
        self.message.setText("The passphrase could not be checked; the vault may be closed.")


def reauthenticate_with(vault: Vault) -> Reauthenticate:
    """A callable for pages: ``reauth(parent, "erase these subjects")`` → True when confirmed."""

    def ask(parent: QWidget, action: str) -> bool:
        return ReauthDialog(vault, action, parent).exec() == QDialog.DialogCode.Accepted

    return ask
