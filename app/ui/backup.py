"""Vault → Back up the vault…: the encrypted copy `custos vault backup` makes, from the app (decision 0059).

The desktop app is the whole tool for a DPO or a small team without servers, and a vault that is never copied is
lost with its disk (Art. 32(1)(c): restoring availability in a timely manner). The copy is the vault itself,
encrypted under the current backup key epoch (app/erasure/backup.py, decision 0067); the passphrase is asked again
first, since the file holds everyone's data. The erasure ledger and the backup keys are left out on purpose, so that
a restore replays every later erasure and a destroyed epoch puts its backups beyond use: the answer says so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from app.services.vault import BackupInfo, back_up, opening_note
from app.store.vault import Vault
from app.ui.lock.reauth import Reauthenticate
from app.ui.policy.common import user_message
from app.ui.widgets import documents_dir
from app.ui.workers import submit

ChooseFile = Callable[[QWidget, str], str | None]  # (parent, suggested path) -> the chosen path, or None


def choose_backup_file(parent: QWidget, suggested: str) -> str | None:
    path, _filter = QFileDialog.getSaveFileName(parent, "Back up the vault", suggested, "Custos backup (*.vault)")
    return path or None


def suggested_name(now: datetime) -> str:
    """custos-20261203-1015.vault in the Documents folder: a new name each time (a backup is never overwritten)."""
    return str(Path(documents_dir()) / f"custos-{now.astimezone(UTC):%Y%m%d-%H%M}.vault")


def done_text(info: BackupInfo) -> str:
    return (
        f"Backup written: {info.path}\n{info.size:,} bytes, SHA-256 {info.sha256}\n\n"
        f"Keep it on another disk or machine. {opening_note(info)}"
    )


class BackupAction:
    """Asks for a file and the passphrase, writes the backup in a worker, then says what was written or why not."""

    def __init__(
        self,
        parent: QWidget,
        vault: Vault,
        reauthenticate: Reauthenticate,
        choose: ChooseFile = choose_backup_file,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_written: Callable[[], None] = lambda: None,
    ) -> None:
        """``on_written``: called once a backup is on the record (the Overview reads its Backups line again)."""
        self.parent = parent
        self.on_written = on_written
        self.vault = vault
        self.reauthenticate = reauthenticate
        self.choose = choose
        self.clock = clock
        self.last_message = ""  # what the last answer said (the tests read it; the box shows it)

    def run(self) -> None:
        chosen = self.choose(self.parent, suggested_name(self.clock()))
        if not chosen:
            return
        if not self.reauthenticate(self.parent, "back up the vault"):
            return
        target, vault = Path(chosen), self.vault
        submit(lambda: back_up(vault, target), self._written, self._failed)

    def _written(self, info: BackupInfo) -> None:
        self.on_written()
        self._say(QMessageBox.Icon.Information, done_text(info))

    def _failed(self, exc: Exception) -> None:
        self._say(QMessageBox.Icon.Warning, user_message(exc, "The backup could not be written."))

    def _say(self, icon: QMessageBox.Icon, text: str) -> None:
        self.last_message = text
        box = QMessageBox(icon, "Back up the vault", text, QMessageBox.StandardButton.Ok, self.parent)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # the path and digest copy
        box.open()
