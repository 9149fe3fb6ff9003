""" "Export subject data…" on an identity: everything held about one user as JSON and PDF (Art. 15 and 20).

The folder chooser is an attribute, so tests replace it; the export runs in a worker and a small non-modal
dialog shows a busy indicator and the step being done, with Cancel (honoured until the files are moved into
place: a cancelled export leaves no file, no empty folder it made, and nothing on the trail), then each file
written with its SHA-256.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.services.export import ExportCancelled, ExportControl, SubjectWritten, Written, export_subject_files
from app.store.vault import Vault
from app.ui.exports.opened import ExportedActions
from app.ui.exports.step import show_export_step
from app.ui.lock.reauth import Reauthenticate
from app.ui.policy.common import login_name, plain_label, user_message
from app.ui.widgets import documents_dir
from app.ui.workers import submit

ChooseFolder = Callable[[QWidget], Path | None]
ACTION_TEXT = "Export subject data…"
POLL_MS = 100
TOO_LATE = "The files are in place and being recorded on the audit trail; this can no longer be cancelled."


def choose_export_folder(parent: QWidget) -> Path | None:
    folder = QFileDialog.getExistingDirectory(parent, "Export subject data into folder", documents_dir())
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
        self.exported_actions = ExportedActions()
        self.cancel_button = QPushButton("Cancel export")
        self.cancel_button.clicked.connect(self.cancel_export)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        self.buttons.setEnabled(False)  # closable once the worker has answered
        self.control = control = ExportControl()  # the step and the stop request, shared with the worker
        self.running = True
        self.poll = QTimer(self)
        self.poll.setInterval(POLL_MS)
        self.poll.timeout.connect(self._show_step)
        row = QHBoxLayout()
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        row.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        layout.addWidget(self.files)
        layout.addWidget(self.exported_actions)
        layout.addLayout(row)
        self.resize(640, 200)
        self.poll.start()
        submit(
            lambda: export_subject_files(vault, user_id, out_dir, operator, control=control),
            self._exported,
            self._failed,
        )

    def cancel_export(self) -> None:
        if not self.running or self.control.cancel_requested:
            return
        self.control.cancel()
        self.cancel_button.setEnabled(False)
        self.status.setText("Cancelling: removing what was written…")

    def _show_step(self) -> None:
        show_export_step(self.control, self.status, self.cancel_button, TOO_LATE)

    def _done(self) -> None:
        self.running = False
        self.poll.stop()
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.buttons.setEnabled(True)

    def _exported(self, result: SubjectWritten) -> None:
        written = list(result.files)
        self._done()
        self.written = written
        self.finished_ok = True
        late = "The export had finished before the cancel could stop it. " if self.control.cancel_requested else ""
        self.status.setText(f"{late}Exported; recorded on the audit trail. Hand these files to the person who asked.")
        self.files.setText("\n".join(f"{w.path}\nSHA-256: {w.sha256}" for w in written))
        self.exported_actions.set_path(Path(written[0].path) if written else None)

    def _failed(self, exc: Exception) -> None:
        self._done()
        if isinstance(exc, ExportCancelled):
            self.status.setText(exc.user_message)
            return
        self.status.setText(user_message(exc, "The subject data could not be exported."))

    def reject(self) -> None:
        if self.running:  # Escape or the window's close: ask the export to stop; the dialog stays to say how
            self.cancel_export()
            return
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
