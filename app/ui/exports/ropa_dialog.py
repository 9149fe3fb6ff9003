""" "Export Article 30 records": format and record choice, where to write, then path and hash.

While it runs: a busy indicator, the step being done, and Cancel, honoured until the file is moved into place
(app/services/export.py); a cancelled export leaves no file and nothing on the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QVBoxLayout,
    QWidget,
)

from app.scim.server import ScimServer
from app.services.export import (
    FORMATS,
    MULTI_RECORD_FORMATS,
    RECORD_CHOICES,
    ExportCancelled,
    ExportControl,
    RopaWritten,
    export_ropa,
    suffix_of,
)
from app.store.vault import Vault
from app.ui.exports.output import ExportOutput
from app.ui.exports.step import show_export_step
from app.ui.policy.common import login_name, plain_label, user_message
from app.ui.widgets import documents_dir
from app.ui.workers import submit

ChoosePath = Callable[[QWidget, Path, str], Path | None]
POLL_MS = 100
TOO_LATE = "The file is in place and being recorded on the audit trail; this can no longer be cancelled."

FORMAT_LABELS = {
    "xlsx": "Excel workbook (ICO template layout)",
    "ods": "OpenDocument spreadsheet",
    "csv": "CSV (one record)",
    "json": "JSON (one record, with its schema)",
    "pdf": "PDF (readable)",
    "cnil": "CNIL model (one form per activity, French labels, ODS)",
}


def choose_output_path(parent: QWidget, suggested: Path, fmt: str) -> Path | None:
    suffix = suffix_of(fmt)
    name, _filter = QFileDialog.getSaveFileName(
        parent, "Export Article 30 records", str(suggested), f"{fmt.upper()} (*.{suffix})"
    )
    return Path(name) if name else None


def default_path(fmt: str) -> Path:
    name = f"custos-article-30{'-cnil' if fmt == 'cnil' else ''}-{date.today().isoformat()}.{suffix_of(fmt)}"
    return Path(documents_dir()) / name


def transport_of(server: ScimServer | None) -> tuple[str | None, str | None]:
    """The endpoint and TLS as actually configured, for the technical measures (None: the facts' default)."""
    if server is None:
        return None, None
    url = server.base_url if server.running else None
    if server.tls is None:
        return url, "No TLS: plain HTTP, accepted on the loopback interface only"
    return url, f"TLS 1.2+ on the SCIM endpoint (certificate SHA-256 {server.fingerprint})"


class RopaExportDialog(QDialog):
    def __init__(
        self,
        vault: Vault,
        server: ScimServer | None = None,
        choose_path: ChoosePath = choose_output_path,
        operator: Callable[[], str] = login_name,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.vault = vault
        self.server = server
        self.choose_path = choose_path
        self.operator = operator
        self.outcome: RopaWritten | None = None  # not "result": QDialog.result() exists
        self._busy = False
        self.control: ExportControl | None = None  # the running export's step and stop request
        self.setWindowTitle("Export Article 30 records")

        self.format = QComboBox()
        for fmt in FORMATS:
            self.format.addItem(FORMAT_LABELS.get(fmt, fmt.upper()), fmt)
        self.record = QComboBox()
        for key, label in RECORD_CHOICES:
            self.record.addItem(label, key)
        self.output = ExportOutput(str(default_path(self.chosen_format())), self.browse)
        self.path, self.progress = self.output.path, self.output.progress
        self.status, self.written, self.exported_actions = self.output.status, self.output.written, self.output.actions
        self.sha256 = plain_label(wrap=True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.clicked.connect(self.export)
        self.cancel_button = self.buttons.addButton("Cancel export", QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button.clicked.connect(self.cancel_export)
        self.cancel_button.setVisible(False)
        self.buttons.rejected.connect(self.reject)
        self.poll = QTimer(self)
        self.poll.setInterval(POLL_MS)
        self.poll.timeout.connect(self._show_step)
        self.format.currentIndexChanged.connect(self._format_changed)

        form = QFormLayout()
        form.addRow("For&mat", self.format)  # Alt+M: Alt+F is "Show in folder"
        form.addRow("&Records", self.record)
        form.addRow(self.output.path_label(), self.output.path_row())
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        self.output.add_feedback(layout, self.sha256)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self._format_changed()
        self.resize(640, 280)

    def chosen_format(self) -> str:
        return str(self.format.currentData())

    def set_format(self, fmt: str) -> None:
        self.format.setCurrentIndex(self.format.findData(fmt))

    def set_record(self, choice: str) -> None:
        self.record.setCurrentIndex(self.record.findData(choice))

    def _format_changed(self, *_args: object) -> None:
        fmt = self.chosen_format()
        # Both records fit only where there are sheets or sections to hold them.
        both = self.record.findData("both")
        items = self.record.model()
        if isinstance(items, QStandardItemModel):  # a combo box's own model
            items.item(both).setEnabled(fmt in MULTI_RECORD_FORMATS)
        if self.record.currentData() == "both" and fmt not in MULTI_RECORD_FORMATS:
            self.set_record("controller")
        current = Path(self.path.text().strip())
        if current.suffix.lower().lstrip(".") in {suffix_of(known) for known in FORMATS}:
            self.path.setText(str(current.with_suffix(f".{suffix_of(fmt)}")))

    def browse(self) -> None:
        fmt = self.chosen_format()
        self.output.choose(lambda start: self.choose_path(self, start, fmt), default_path(fmt))

    def export(self) -> None:
        if self._busy:
            return
        out = self.output.target("the records")
        if out is None:
            return
        fmt, choice, operator = self.chosen_format(), str(self.record.currentData()), self.operator()
        url, tls = transport_of(self.server)
        vault = self.vault
        self.control = control = ExportControl()
        self._set_busy(True)
        # The closure holds plain values only: no Qt object reaches the worker thread.
        submit(
            lambda: export_ropa(vault, fmt, out, choice, operator, server_url=url, tls=tls, control=control),
            self._exported,
            self._failed,
        )

    def cancel_export(self) -> None:
        control = self.control
        if control is None or control.cancel_requested:
            return
        control.cancel()
        self.cancel_button.setEnabled(False)
        self.status.setText("Cancelling: removing what was written…")

    def _show_step(self) -> None:
        show_export_step(self.control, self.status, self.cancel_button, TOO_LATE)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        self.cancel_button.setToolTip("")
        if busy:
            self.poll.start()
        else:
            self.poll.stop()
            self.control = None
        for widget in (self.export_button, self.format, self.record, self.path):
            widget.setEnabled(not busy)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setEnabled(not busy)
        if busy:
            self.status.setText("Reading the policy and the vault, and writing the records…")
            self.written.clear()
            self.sha256.clear()
            self.exported_actions.set_path(None)

    def _exported(self, result: RopaWritten) -> None:
        late = self.control is not None and self.control.cancel_requested
        self._set_busy(False)
        self.outcome = result
        done = "The export had finished before the cancel could stop it. " if late else ""
        self.status.setText(f"{done}Exported under policy {result.policy_stamp}; recorded on the audit trail.")
        self.written.setText(f"Written: {result.file.path}")
        self.sha256.setText(f"SHA-256: {result.file.sha256}")
        self.sha256.setToolTip(f"Content hash stated in the record: {result.content_hash}")
        self.exported_actions.set_path(Path(result.file.path))

    def _failed(self, exc: Exception) -> None:
        self._set_busy(False)
        if isinstance(exc, ExportCancelled):
            self.status.setText(exc.user_message)
            return
        self.status.setText(user_message(exc, "The records could not be exported."))

    def reject(self) -> None:
        if self._busy:  # Escape or the window's close: ask the export to stop; the dialog stays to say how it ended
            self.cancel_export()
            return
        super().reject()
