""" "Export the timeline": the selected entries or the whole filtered timeline, as CSV or XLSX.

The work is app.exports.audit_timeline's (Qt-free, the same file and trail entry whoever asks); this dialog only
asks what and where (a file dialog starting in Documents) and offers Open / Show in folder afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.audit.query import EventFilter
from app.services.audit import TimelineWritten, export_timeline, matching
from app.store.vault import Vault
from app.ui.exports.output import ExportOutput
from app.ui.policy.common import login_name, plain_label, user_message
from app.ui.widgets import documents_dir
from app.ui.workers import submit

ChoosePath = Callable[[QWidget, Path, str], Path | None]
FORMAT_LABELS = {"csv": "CSV (UTF-8, opens in any spreadsheet)", "xlsx": "Excel workbook (XLSX)"}


def choose_timeline_path(parent: QWidget, suggested: Path, fmt: str) -> Path | None:
    name, _filter = QFileDialog.getSaveFileName(
        parent, "Export the audit timeline", str(suggested), f"{fmt.upper()} (*.{fmt})"
    )
    return Path(name) if name else None


def default_timeline_path(fmt: str) -> Path:
    return Path(documents_dir()) / f"custos-audit-timeline-{date.today().isoformat()}.{fmt}"


class TimelineExportDialog(QDialog):
    def __init__(
        self,
        vault: Vault,
        where: EventFilter,
        selected: list[int],
        choose_path: ChoosePath = choose_timeline_path,
        operator: Callable[[], str] = login_name,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.vault, self.where, self.selected = vault, where, sorted(selected)
        self.choose_path, self.operator = choose_path, operator
        self.outcome: TimelineWritten | None = None
        self._busy = False
        self.setWindowTitle("Export the audit timeline")

        chosen = len(self.selected)
        self.use_selection = QRadioButton("The selected entry" if chosen == 1 else f"The {chosen:,} selected entries")
        self.use_filter = QRadioButton("Every entry the current filter matches (counting…)")
        self.use_selection.setEnabled(bool(self.selected))
        (self.use_selection if self.selected else self.use_filter).setChecked(True)
        self.format = QComboBox()
        for fmt, label in FORMAT_LABELS.items():
            self.format.addItem(label, fmt)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.output = ExportOutput(str(default_timeline_path("csv")), self.browse)
        self.path, self.progress = self.output.path, self.output.progress
        self.note = plain_label(
            "Rows hold what the trail shows: subjects as pseudonyms, never a sealed personal value. "
            "The export itself is recorded on the audit trail.",
            wrap=True,
        )
        self.status, self.written, self.exported_actions = self.output.status, self.output.written, self.output.actions
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.export)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setAutoDefault(False)  # Enter exports

        scope = QVBoxLayout()
        scope.addWidget(self.use_selection)
        scope.addWidget(self.use_filter)
        form = QFormLayout()
        form.addRow("Entries", scope)
        form.addRow("For&mat", self.format)  # Alt+M: Alt+F is "Show in folder"
        form.addRow(self.output.path_label(), self.output.path_row())
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        self.output.add_feedback(layout)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.resize(600, self.sizeHint().height())
        submit(lambda: matching(vault, where), self._counted, self._not_counted)

    def chosen_format(self) -> str:
        return str(self.format.currentData())

    def set_format(self, fmt: str) -> None:
        self.format.setCurrentIndex(self.format.findData(fmt))

    def _counted(self, n: int) -> None:
        self.use_filter.setText(f"Every entry the current filter matches ({n:,})")

    def _not_counted(self, _exc: Exception) -> None:
        self.use_filter.setText("Every entry the current filter matches")

    def _format_changed(self, *_args: object) -> None:
        current = Path(self.path.text().strip())
        if current.suffix.lower() in (".csv", ".xlsx"):
            self.path.setText(str(current.with_suffix(f".{self.chosen_format()}")))

    def browse(self) -> None:
        fmt = self.chosen_format()
        self.output.choose(lambda start: self.choose_path(self, start, fmt), default_timeline_path(fmt))

    def export(self) -> None:
        if self._busy:
            return
        out = self.output.target("the timeline")
        if out is None:
            return
        vault, fmt, operator = self.vault, self.chosen_format(), self.operator()
        seqs = list(self.selected) if self.use_selection.isChecked() else None
        where = None if seqs is not None else self.where
        self._set_busy(True)
        submit(lambda: export_timeline(vault, fmt, out, operator, where=where, seqs=seqs), self._exported, self._failed)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.progress.setVisible(busy)
        for widget in (self.export_button, self.format, self.path, self.use_selection, self.use_filter):
            widget.setEnabled(not busy and (widget is not self.use_selection or bool(self.selected)))
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setEnabled(not busy)
        if busy:
            self.status.setText("Reading the trail and writing the file…")
            self.written.clear()
            self.exported_actions.set_path(None)

    def _exported(self, result: TimelineWritten) -> None:
        self._set_busy(False)
        self.outcome = result
        if result.rows == 1:
            what = f"1 entry, seq {result.first_seq:,}"
        elif result.rows:
            what = f"{result.rows:,} entries, seq {result.first_seq:,} to {result.last_seq:,}"
        else:
            what = "no entries (the file holds the column names only)"
        self.status.setText(f"Exported {what}; recorded on the audit trail.")
        self.written.setText(f"Written: {result.path}\nSHA-256: {result.sha256}")
        self.exported_actions.set_path(result.path)

    def _failed(self, exc: Exception) -> None:
        self._set_busy(False)
        self.status.setText(user_message(exc, "The timeline could not be exported."))

    def reject(self) -> None:
        if self._busy:  # the file is being written and recorded: the dialog stays to say how it ended
            return
        super().reject()
