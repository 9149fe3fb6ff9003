"""Vault → Change passphrase…: re-keys the database (SQLCipher PRAGMA rekey) in a worker."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.core.errors import CustosError
from app.services.vault import PassphraseChanged, change_passphrase
from app.store.vault import Vault
from app.ui.passphrase_field import PassphraseRow
from app.ui.times import local_time
from app.ui.workers import submit

# Said before anything is typed. Was "Backups made before keep the old passphrase": untrue since key epochs
# (decision 0067), whose backups open with the passphrase in force at the restore once the change re-seals their keys;
# only a backup made before key epochs keeps the old one. A DPO reading the old sentence would keep a leaked
# passphrase alive for backups it no longer opens, or think the change useless.
BEFORE_THE_CHANGE = (
    "The whole vault is re-encrypted with the new key; the keyring shortcut, if any, is forgotten. Backups made "
    "under backup key epochs (Vault → Backup keys…) will open with the new passphrase; a backup made before key "
    "epochs keeps the old one. Close 'custos serve' and any command using this vault first."
)


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
        self.message = QLabel(BEFORE_THE_CHANGE)
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
        self.setMinimumWidth(480)  # the outcome runs to three sentences: at its hint width they wrapped every few words

    def change(self) -> None:
        current, new, again = self.current.text(), self.new.text(), self.confirmation.text()
        for field in (self.current, self.new, self.confirmation):
            field.clear()
        self.buttons.setEnabled(False)
        self.message.setText("Re-encrypting the vault…")
        vault = self.vault

        submit(lambda: change_passphrase(vault, current, new, again), self._changed, self._failed)

    def _changed(self, changed: PassphraseChanged) -> None:
        """Said, not closed at once: what the change did not reach (older backups) is for the operator to act on."""
        lines = ["Passphrase changed; recorded on the audit trail."]
        if changed.keyring_forgotten:
            lines.append(
                "The key remembered in the keyring was forgotten: the new passphrase is asked at the next start."
            )
        if changed.backup_keys_resealed:
            lines.append("Backups made under backup key epochs open with the new passphrase.")
        if changed.backup_keys_problem:
            lines.append(f"The backup keys were not re-sealed: {changed.backup_keys_problem} Make a new backup.")
        last = None
        if changed.restored_from is not None:  # restored since the last backup recorded: that backup is the newest
            last = f"the last known is the one restored from on {local_time(changed.restored_from.at)}"
        elif changed.last_backup is not None:
            last = f"the last on {local_time(changed.last_backup)}"
        if last is not None:
            which = "before key epochs" if changed.backup_keys_resealed else "before"
            lines.append(f"Backups made {which} ({last}) open with the old passphrase only: make a new one (Vault → "
                         "Back up the vault…).")  # fmt: skip
        self.message.setText("\n".join(lines))
        for field in (self.current, self.new, self.confirmation):
            field.setEnabled(False)
        self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)
        self.buttons.setEnabled(True)

    def _failed(self, exc: Exception) -> None:
        self.buttons.setEnabled(True)
        self.message.setText(exc.user_message if isinstance(exc, CustosError) else "The passphrase was not changed.")
