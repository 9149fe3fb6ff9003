""" "Export register…" on the Incidents and Requests pages: the whole register as CSV or XLSX, for a supervisory
authority (the breach register, Art. 33(5)) or an auditor (the request register, Art. 5(2)).

The work is app/services/registers.py's (the same file and trail entry as ``custos breach export`` / ``custos dsr
export``); this dialog only asks the format and where (a file dialog starting in Documents), runs it in the pool,
and offers Open / Show in folder afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QVBoxLayout, QWidget

from app.core.wording import counted
from app.services.registers import FORMATS, RegisterWritten, export_breaches, export_requests
from app.store.vault import Vault
from app.ui.exports.output import ExportOutput
from app.ui.policy.common import login_name, plain_label, user_message
from app.ui.widgets import documents_dir
from app.ui.workers import submit

ChoosePath = Callable[[QWidget, Path, str], Path | None]
FORMAT_LABELS = {"xlsx": "Excel workbook (XLSX, with a sheet about the export)", "csv": "CSV (UTF-8, one table)"}


@dataclass(frozen=True)
class Register:
    title: str  # the dialog's title
    file_stem: str
    entry: str  # one row of the file
    note: str  # what the file holds, and what it leaves out
    export: Callable[[Vault, str, Path, str], RegisterWritten]


BREACHES = Register(
    "Export the breach register",
    "custos-breach-register",
    "incident",
    "One row per incident, notified or not (Art. 33(5)): the Art. 33(3) content, every time in UTC with its "
    "corrections, the 72-hour deadline and whether the notification was in time or late with the reasons, the risk "
    "assessment, Art. 34, and how it ended. The XLSX adds every time's history. The export is recorded on the audit "
    "trail.",
    export_breaches,
)
REQUESTS = Register(
    "Export the request register",
    "custos-request-register",
    "request",
    "One row per request (Art. 12–22): rights, dates, due dates and extensions, identity check, what became of each "
    "right, the answer and the links to erasures and exports. The requester's sealed details (name, address, notes, "
    "reasoning) are personal data under the person's own key and are left out. The export is recorded on the audit "
    "trail.",
    export_requests,
)


def choose_register_path(parent: QWidget, suggested: Path, fmt: str) -> Path | None:
    name, _filter = QFileDialog.getSaveFileName(parent, "Export the register", str(suggested),
                                                f"{fmt.upper()} (*.{fmt})")  # fmt: skip
    return Path(name) if name else None


def default_path(register: Register, fmt: str) -> Path:
    return Path(documents_dir()) / f"{register.file_stem}-{date.today().isoformat()}.{fmt}"


class RegisterExportDialog(QDialog):
    def __init__(
        self,
        vault: Vault,
        register: Register,
        choose_path: ChoosePath = choose_register_path,
        operator: Callable[[], str] = login_name,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.vault, self.register = vault, register
        self.choose_path, self.operator = choose_path, operator
        self.outcome: RegisterWritten | None = None
        self._busy = False
        self.setWindowTitle(register.title)
        self.format = QComboBox()
        for fmt in FORMATS[::-1]:  # XLSX first: what an authority opens
            self.format.addItem(FORMAT_LABELS[fmt], fmt)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.output = ExportOutput(str(default_path(register, self.chosen_format())), self.browse)
        self.path, self.progress = self.output.path, self.output.progress
        self.status, self.written, self.exported_actions = self.output.status, self.output.written, self.output.actions
        self.note = plain_label(register.note, wrap=True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.export)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setAutoDefault(False)  # Enter exports
        form = QFormLayout()
        form.addRow("For&mat", self.format)  # Alt+M: Alt+F is "Show in folder"
        form.addRow(self.output.path_label(), self.output.path_row())
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        self.output.add_feedback(layout)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.resize(600, self.sizeHint().height())

    def chosen_format(self) -> str:
        return str(self.format.currentData())

    def set_format(self, fmt: str) -> None:
        self.format.setCurrentIndex(self.format.findData(fmt))

    def _format_changed(self, *_args: object) -> None:
        current = Path(self.path.text().strip())
        if current.suffix.lower() in (".csv", ".xlsx"):
            self.path.setText(str(current.with_suffix(f".{self.chosen_format()}")))

    def browse(self) -> None:
        fmt = self.chosen_format()
        self.output.choose(lambda start: self.choose_path(self, start, fmt), default_path(self.register, fmt))

    def export(self) -> None:
        if self._busy:
            return
        out = self.output.target("the register")
        if out is None:
            return
        vault, fmt, operator, export = self.vault, self.chosen_format(), self.operator(), self.register.export
        self._set_busy(True)
        submit(lambda: export(vault, fmt, out, operator), self._exported, self._failed)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.progress.setVisible(busy)
        for widget in (self.export_button, self.format, self.path, self.output.browse_button):
            widget.setEnabled(not busy)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setEnabled(not busy)
        if busy:
            self.status.setText("Reading the register and writing the file…")
            self.written.clear()
            self.exported_actions.set_path(None)

    def _exported(self, result: RegisterWritten) -> None:
        self._set_busy(False)
        self.outcome = result
        self.status.setText(f"Exported {counted(result.rows, self.register.entry)}; recorded on the audit trail.")
        self.written.setText(f"Written: {result.path}\nSHA-256: {result.sha256}")
        self.exported_actions.set_path(result.path)

    def _failed(self, exc: Exception) -> None:
        self._set_busy(False)
        self.status.setText(user_message(exc, "The register could not be exported."))

    def reject(self) -> None:
        if self._busy:  # the file is being written and recorded: the dialog stays to say how it ended
            return
        super().reject()
