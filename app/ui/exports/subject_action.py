""" "Export subject data…" on an identity: everything held about one user as JSON and PDF (Art. 15 and 20).

The folder chooser is an attribute, so tests replace it; the export runs in a worker and a small non-modal
dialog shows progress, then each file written with its SHA-256.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog, QProgressBar, QVBoxLayout, QWidget

from app.store.vault import Vault
from app.ui.exports.jobs import Written, export_subject_files
from app.ui.lock.reauth import Reauthenticate
from app.ui.policy.common import login_name, plain_label, user_message
from app.ui.workers import submit

ChooseFolder = Callable[[QWidget], Path | None]
ACTION_TEXT = "Export subject data…"


def choose_export_folder(parent: QWidget) -> Path | None:
    folder = QFileDialog.getExistingDirectory(parent, "Export subject data into folder")
    return Path(folder) if folder else None


class SubjectExportDialog(QDialog):
    def __init__(self, vault: Vault, user_id: str, out_dir: Path, operator: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export subject data")
        self.written: list[Written] = []
        self.finished_ok = False
        self.status = plain_label("Collecting everything held about this person and writing the files…", wrap=True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.files = plain_label(wrap=True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        self.buttons.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        layout.addWidget(self.files)
        layout.addWidget(self.buttons)
        self.resize(640, 200)
        submit(lambda: export_subject_files(vault, user_id, out_dir, operator), self._exported, self._failed)

    def _done(self) -> None:
        self.progress.setVisible(False)
        self.buttons.setEnabled(True)

    def _exported(self, written: list[Written]) -> None:
        self._done()
        self.written = written
        self.finished_ok = True
        self.status.setText("Exported; recorded on the audit trail. Hand these files to the person who asked.")
        self.files.setText("\n".join(f"{w.path}\nSHA-256: {w.sha256}" for w in written))

    def _failed(self, exc: Exception) -> None:
        self._done()
        self.status.setText(user_message(exc, "The subject data could not be exported."))

    def reject(self) -> None:
        if self.buttons.isEnabled():  # closable once the worker has answered
            super().reject()


class SubjectExporter:
    """Owned by the Users browser: asks for a folder, then runs the export in a dialog."""

    def __init__(self, vault: Vault, choose_folder: ChooseFolder = choose_export_folder) -> None:
        self.vault = vault
        self.choose_folder = choose_folder
        self.operator: Callable[[], str] = login_name
        self.dialog: SubjectExportDialog | None = None
        self.reauthenticate: Reauthenticate | None = None  # set by the main window: personal data leaves the vault

    def export(self, parent: QWidget, user_id: str) -> SubjectExportDialog | None:
        if self.reauthenticate is not None and not self.reauthenticate(parent, "export this person's data"):
            return None
        out_dir = self.choose_folder(parent)
        if out_dir is None:
            return None
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = SubjectExportDialog(self.vault, user_id, out_dir, self.operator(), parent)
        self.dialog.open()
        return self.dialog
