""" "Export the timeline": the selected entries or the whole filtered timeline, as CSV or XLSX.

The work is app.exports.audit_timeline's (Qt-free, the same file and trail entry whoever asks); this dialog only
asks what and where (a file dialog starting in Documents) and offers Open / Show in folder afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFormLayout, QRadioButton, QVBoxLayout, QWidget

from app.audit.query import EventFilter
from app.services.audit import TimelineWritten, export_timeline, matching
from app.store.vault import Vault
from app.ui.exports.dialog import ExportDialog, ask_save_path, dated_in_documents
from app.ui.policy.common import login_name, plain_label
from app.ui.workers import submit

ChoosePath = Callable[[QWidget, Path, str], Path | None]
FORMAT_LABELS = {"csv": "CSV (UTF-8, opens in any spreadsheet)", "xlsx": "Excel workbook (XLSX)"}


def choose_timeline_path(parent: QWidget, suggested: Path, fmt: str) -> Path | None:
    return ask_save_path(parent, "Export the audit timeline", suggested, f"{fmt.upper()} (*.{fmt})")


def default_timeline_path(fmt: str) -> Path:
    return dated_in_documents("custos-audit-timeline", fmt)


class TimelineExportDialog(ExportDialog):
    busy_text = "Reading the trail and writing the file…"
    failure_text = "The timeline could not be exported."
    what = "the timeline"

    def __init__(
        self,
        vault: Vault,
        where: EventFilter,
        selected: list[int],
        choose_path: ChoosePath = choose_timeline_path,
        operator: Callable[[], str] = login_name,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Export the audit timeline", default_timeline_path("csv"), parent)
        self.vault, self.where, self.selected = vault, where, sorted(selected)
        self.choose_path, self.operator = choose_path, operator
        self.outcome: TimelineWritten | None = None

        chosen = len(self.selected)
        self.use_selection = QRadioButton("The selected entry" if chosen == 1 else f"The {chosen:,} selected entries")
        self.use_filter = QRadioButton("Every entry the current filter matches (counting…)")
        self.use_selection.setEnabled(bool(self.selected))
        (self.use_selection if self.selected else self.use_filter).setChecked(True)
        self.note = plain_label(
            "Rows hold what the trail shows: subjects as pseudonyms, never a sealed personal value. "
            "The export itself is recorded on the audit trail.",
            wrap=True,
        )
        scope = QVBoxLayout()
        scope.addWidget(self.use_selection)
        scope.addWidget(self.use_filter)
        form = QFormLayout()
        form.addRow("Entries", scope)
        form.addRow("For&mat", self.add_formats(list(FORMAT_LABELS.items())))  # Alt+M: Alt+F is "Show in folder"
        self.lay_out(form, self.note, 600)
        submit(lambda: matching(vault, where), self._counted, self._not_counted)

    def inputs(self) -> list[QWidget]:
        return [self.use_selection, self.use_filter]

    def usable(self, widget: QWidget) -> bool:
        return widget is not self.use_selection or bool(self.selected)

    def _counted(self, n: int) -> None:
        self.use_filter.setText(f"Every entry the current filter matches ({n:,})")

    def _not_counted(self, _exc: Exception) -> None:
        self.use_filter.setText("Every entry the current filter matches")

    def browse(self) -> None:
        fmt = self.chosen_format()
        self.output.choose(lambda start: self.choose_path(self, start, fmt), default_timeline_path(fmt))

    def job_for(self, out: Path) -> Callable[[], TimelineWritten]:
        vault, fmt, operator = self.vault, self.chosen_format(), self.operator()
        seqs = list(self.selected) if self.use_selection.isChecked() else None
        where = None if seqs is not None else self.where
        return lambda: export_timeline(vault, fmt, out, operator, where=where, seqs=seqs)

    def exported(self, result: TimelineWritten) -> None:
        self.outcome = result
        if result.rows == 1:
            what = f"1 entry, seq {result.first_seq:,}"
        elif result.rows:
            what = f"{result.rows:,} entries, seq {result.first_seq:,} to {result.last_seq:,}"
        else:
            what = "no entries (the file holds the column names only)"
        left = f" Left out: {result.scope.left_out_text()}; the trail was not verified." if result.scope else ""
        self.show_written(f"Exported {what}; recorded on the audit trail.{left}", result.path, result.sha256)
