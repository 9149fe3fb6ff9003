"""What every export dialog does around its own choices (the Article 30 records, the registers, the audit timeline,
evidence bundles): Export and Close, the file's place (``ExportOutput``), one export at a time in the worker pool
with the choices locked while it runs, a dialog that stays open until it can say how the export ended, and the
outcome (what was written, its SHA-256, Open / Show in folder) or the failure in words.

One class, so that the four dialogs behave alike: before it, one left Choose… usable during an export and another
did not, and each repeated the same busy, failed and close code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from app.ui.exports.output import ExportOutput
from app.ui.policy.common import user_message
from app.ui.widgets import documents_dir, fit_height
from app.ui.workers import submit


def ask_save_path(parent: QWidget, title: str, suggested: Path, name_filter: str) -> Path | None:
    """Choose…: the system's save dialog, starting at ``suggested``; None when it was cancelled."""
    name, _filter = QFileDialog.getSaveFileName(parent, title, str(suggested), name_filter)
    return Path(name) if name else None


def dated_in_documents(stem: str, suffix: str) -> Path:
    """The path an export suggests: Documents, the export's name and today's date (``custos-…-2026-12-03.xlsx``)."""
    return Path(documents_dir()) / f"{stem}-{date.today().isoformat()}.{suffix}"


class ExportDialog(QDialog):
    """The shared frame. A subclass builds its choices, calls :meth:`lay_out`, and says what to run
    (:meth:`job_for`) and what it wrote (:meth:`exported`)."""

    busy_text = "Writing the file…"
    failure_text = "The file could not be exported."
    what = "the file"  # "Choose where to save {what} first."

    def __init__(self, title: str, default_path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._busy = False
        self.setWindowTitle(title)
        self.output = ExportOutput(str(default_path), self.browse)
        self.path, self.progress = self.output.path, self.output.progress
        self.status, self.written, self.exported_actions = self.output.status, self.output.written, self.output.actions
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.export)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setAutoDefault(False)  # Enter exports
        self.format: QComboBox | None = None

    # -- building ----------------------------------------------------------------------------------------------
    def add_formats(self, labels: Sequence[tuple[str, str]]) -> QComboBox:
        """The format choice (format, label), in the order given; a path ending in one of their suffixes follows
        the choice."""
        self.format = QComboBox()
        for fmt, label in labels:
            self.format.addItem(label, fmt)
        self.format.currentIndexChanged.connect(self._format_changed)
        return self.format

    def lay_out(self, form: QFormLayout, note: QLabel | None, width: int, *extra: QWidget) -> None:
        """The choices, the file's place, what the export holds, the outcome lines (and ``extra``), the buttons."""
        form.addRow(self.output.path_label(), self.output.path_row())
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        if note is not None:
            layout.addWidget(note)
        self.output.add_feedback(layout, *extra)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.resize(width, self.sizeHint().height())

    # -- the format --------------------------------------------------------------------------------------------
    def chosen_format(self) -> str:
        return str(self.format.currentData()) if self.format is not None else ""

    def set_format(self, fmt: str) -> None:
        if self.format is not None:
            self.format.setCurrentIndex(self.format.findData(fmt))

    def suffix_of(self, fmt: str) -> str:
        """The file suffix of a format (the format's own name unless a subclass says otherwise)."""
        return fmt

    def _format_changed(self, *_args: object) -> None:
        if self.format is None:
            return
        current = Path(self.path.text().strip())
        known = {self.suffix_of(str(self.format.itemData(i))) for i in range(self.format.count())}
        if current.suffix.lower().lstrip(".") in known:
            self.path.setText(str(current.with_suffix(f".{self.suffix_of(self.chosen_format())}")))

    # -- what a subclass provides ------------------------------------------------------------------------------
    def browse(self) -> None:
        raise NotImplementedError

    def job_for(self, out: Path) -> Callable[[], Any]:
        """The export to run into ``out``, holding plain values only (no Qt object reaches the worker thread)."""
        raise NotImplementedError

    def exported(self, result: Any) -> None:
        """Say what ``job_for``'s job wrote (ends with :meth:`show_written`)."""
        raise NotImplementedError

    def inputs(self) -> list[QWidget]:
        """The choices locked while an export runs (the path, Choose…, Export and the format are added here)."""
        return []

    def usable(self, widget: QWidget) -> bool:
        """Whether a choice is usable once the export has ended (a choice with nothing to choose stays off)."""
        return True

    def clear_outcome(self) -> None:
        """Forget the last outcome when another export starts (a subclass clears its own lines too)."""
        self.written.clear()
        self.exported_actions.set_path(None)

    # -- running -----------------------------------------------------------------------------------------------
    def export(self) -> None:
        """Export: one at a time, into the path given; the job runs in the pool with the choices locked, its
        result goes to :meth:`exported` and its exception to :meth:`failed`."""
        if self._busy:
            return
        out = self.output.target(self.what)
        if out is None:
            return
        job = self.job_for(out)
        self.set_busy(True)
        submit(job, self.exported, self.failed)

    @property
    def busy(self) -> bool:
        return self._busy

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.progress.setVisible(busy)
        locked = [self.export_button, self.path, self.output.browse_button, *([self.format] if self.format else [])]
        for widget in (*locked, *self.inputs()):
            widget.setEnabled(not busy and self.usable(widget))
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setEnabled(not busy)
        if busy:
            self.status.setText(self.busy_text)
            self.clear_outcome()

    def show_written(self, said: str, path: Path, sha256: str | None) -> None:
        """The outcome: what was exported, the file and (when given) its hash, and Open / Show in folder."""
        self.set_busy(False)
        self.status.setText(said)
        self.written.setText(f"Written: {path}" + (f"\nSHA-256: {sha256}" if sha256 else ""))
        self.exported_actions.set_path(path)
        # The outcome runs to four lines and two buttons under a dialog sized before it: unless it grows, the
        # layout squeezed the choices above into each other (seen in Xvfb at 1280x800, the timeline's "Entries").
        fit_height(self)

    def failed(self, exc: Exception) -> None:
        self.set_busy(False)
        self.status.setText(user_message(exc, self.failure_text))
        fit_height(self)

    def reject(self) -> None:
        if self._busy:  # the file is being written and recorded: the dialog stays to say how it ended
            return
        super().reject()
