""" "Export Article 30 records": format and record choice, where to write, then path and hash.

While it runs: a busy indicator, the step being done, and Cancel, honoured until the file is moved into place
(app/services/export.py); a cancelled export leaves no file and nothing on the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
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
from app.ui.exports.dialog import ExportDialog, ask_save_path, dated_in_documents
from app.ui.exports.step import show_export_step
from app.ui.policy.common import login_name, plain_label

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
    return ask_save_path(parent, "Export Article 30 records", suggested, f"{fmt.upper()} (*.{suffix_of(fmt)})")


def default_path(fmt: str) -> Path:
    return dated_in_documents(f"custos-article-30{'-cnil' if fmt == 'cnil' else ''}", suffix_of(fmt))


def transport_of(server: ScimServer | None) -> tuple[str | None, str | None]:
    """The endpoint and TLS as actually configured, for the technical measures (None: the facts' default)."""
    if server is None:
        return None, None
    url = server.base_url if server.running else None
    if server.tls is None:
        return url, "No TLS: plain HTTP, accepted on the loopback interface only"
    return url, f"TLS 1.2+ on the SCIM endpoint (certificate SHA-256 {server.fingerprint})"


class RopaExportDialog(ExportDialog):
    busy_text = "Reading the policy and the vault, and writing the records…"
    failure_text = "The records could not be exported."
    what = "the records"

    def __init__(
        self,
        vault: Vault,
        server: ScimServer | None = None,
        choose_path: ChoosePath = choose_output_path,
        operator: Callable[[], str] = login_name,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Export Article 30 records", default_path(FORMATS[0]), parent)
        self.vault = vault
        self.server = server
        self.choose_path = choose_path
        self.operator = operator
        self.outcome: RopaWritten | None = None  # not "result": QDialog.result() exists
        self.control: ExportControl | None = None  # the running export's step and stop request

        self.record = QComboBox()
        for key, label in RECORD_CHOICES:
            self.record.addItem(label, key)
        self.sha256 = plain_label(wrap=True)
        self.cancel_button = self.buttons.addButton("Cancel export", QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button.clicked.connect(self.cancel_export)
        self.cancel_button.setVisible(False)
        self.poll = QTimer(self)
        self.poll.setInterval(POLL_MS)
        self.poll.timeout.connect(self._show_step)

        form = QFormLayout()
        formats = self.add_formats([(fmt, FORMAT_LABELS.get(fmt, fmt.upper())) for fmt in FORMATS])
        form.addRow("For&mat", formats)  # Alt+M: Alt+F is "Show in folder"
        form.addRow("&Records", self.record)
        self.lay_out(form, None, 640, self.sha256)
        self._format_changed()

    def suffix_of(self, fmt: str) -> str:
        return suffix_of(fmt)

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
        super()._format_changed()

    def browse(self) -> None:
        fmt = self.chosen_format()
        self.output.choose(lambda start: self.choose_path(self, start, fmt), default_path(fmt))

    def job_for(self, out: Path) -> Callable[[], RopaWritten]:
        fmt, choice, operator = self.chosen_format(), str(self.record.currentData()), self.operator()
        url, tls = transport_of(self.server)
        vault = self.vault
        self.control = control = ExportControl()
        return lambda: export_ropa(vault, fmt, out, choice, operator, server_url=url, tls=tls, control=control)

    def cancel_export(self) -> None:
        control = self.control
        if control is None or control.cancel_requested:
            return
        control.cancel()
        self.cancel_button.setEnabled(False)
        self.status.setText("Cancelling: removing what was written…")

    def _show_step(self) -> None:
        show_export_step(self.control, self.status, self.cancel_button, TOO_LATE)

    def inputs(self) -> list[QWidget]:
        return [self.record]

    def set_busy(self, busy: bool) -> None:
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        self.cancel_button.setToolTip("")
        if busy:
            self.poll.start()
        else:
            self.poll.stop()
            self.control = None
        super().set_busy(busy)

    def clear_outcome(self) -> None:
        super().clear_outcome()
        self.sha256.clear()

    def exported(self, result: RopaWritten) -> None:
        late = self.control is not None and self.control.cancel_requested
        self.outcome = result
        done = "The export had finished before the cancel could stop it. " if late else ""
        said = f"{done}Exported under policy {result.policy_stamp}; recorded on the audit trail."
        self.show_written(said, Path(result.file.path), None)
        self.sha256.setText(f"SHA-256: {result.file.sha256}")
        self.sha256.setToolTip(f"Content hash stated in the record: {result.content_hash}")

    def failed(self, exc: Exception) -> None:
        if isinstance(exc, ExportCancelled):
            self.set_busy(False)
            self.status.setText(exc.user_message)
            return
        super().failed(exc)

    def reject(self) -> None:
        if self.busy:  # Escape or the window's close: ask the export to stop; the dialog stays to say how it ended
            self.cancel_export()
            return
        super().reject()
