"""The widgets every export dialog shows below its own choices: where to save it (with Choose…), a busy bar, what
happened, the file written, and Open / Show in folder. app/ui/exports/dialog.py lays them out and runs the export;
this module only builds them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QVBoxLayout, QWidget

from app.ui.exports.opened import ExportedActions
from app.ui.policy.common import plain_label


class ExportOutput:
    def __init__(self, default_path: str, browse: Callable[[], object]) -> None:
        self.path = QLineEdit(default_path)
        self.browse_button = QPushButton("Choose…")
        self.browse_button.setAutoDefault(False)  # Enter exports
        self.browse_button.clicked.connect(browse)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # indeterminate: the writers do not report progress
        self.progress.setVisible(False)
        self.status = plain_label(wrap=True)
        self.written = plain_label(wrap=True)
        self.actions = ExportedActions()

    def choose(self, ask: Callable[[Path], Path | None], default: Path) -> None:
        """Choose…: the file dialog starts at the path typed (or ``default``); a choice replaces it."""
        text = self.path.text().strip()
        chosen = ask(Path(text) if text else default)
        if chosen is not None:
            self.path.setText(str(chosen))

    def target(self, what: str) -> Path | None:
        """Where to write, or None (and the reason shown) when no path was given."""
        text = self.path.text().strip()
        if not text:
            self.status.setText(f"Choose where to save {what} first.")
            return None
        return Path(text).expanduser()

    def path_label(self) -> QLabel:
        """"Save as" with its Alt key (Alt+S) on the path itself: a form row of a layout has a label with no buddy,
        so the field was reached only by Tab."""
        label = QLabel("&Save as")
        label.setBuddy(self.path)
        return label

    def path_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(self.browse_button)
        return row

    def add_feedback(self, layout: QVBoxLayout, *extra: QWidget) -> None:
        """The busy bar, the outcome, the file written (and ``extra`` lines), then Open / Show in folder."""
        for widget in (self.progress, self.status, self.written, *extra, self.actions):
            layout.addWidget(widget)
