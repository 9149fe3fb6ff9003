"""One policy version exactly as it was applied: the text an auditor asks for, and a copy to keep in git."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog, QVBoxLayout, QWidget

from app.core.errors import ConfigError
from app.services.policy import PolicyRecord
from app.ui.policy.common import plain_label
from app.ui.policy.diff_dialog import read_only_text
from app.ui.widgets import documents_dir, resize_within_screen


class PolicyTextDialog(QDialog):
    def __init__(self, record: PolicyRecord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.record = record
        self.setWindowTitle(f"Policy v{record.version}")
        heading = plain_label(
            f"Version {record.version}, applied {record.applied_at:%Y-%m-%d %H:%M} UTC by {record.operator}; "
            f"SHA-256 {record.sha256}",
            wrap=True,
        )
        self.text = read_only_text(record.text, monospace=True)
        self.message = plain_label(wrap=True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        save = buttons.addButton("&Save a copy…", QDialogButtonBox.ButtonRole.ActionRole)
        save.clicked.connect(self.choose_and_save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        resize_within_screen(self, 820, 600)

    def choose_and_save(self) -> None:
        suggested = str(Path(documents_dir()) / f"policy-v{self.record.version}.toml")
        chosen, _filter = QFileDialog.getSaveFileName(self, "Save the policy text", suggested, "TOML (*.toml)")
        if chosen:
            self.save_to(Path(chosen))

    def save_to(self, path: Path) -> None:
        """The exact bytes that were applied (same SHA-256), so the copy can be committed or re-applied."""
        try:
            temporary = path.with_name(path.name + ".tmp")
            temporary.write_bytes(self.record.text.encode("utf-8"))
            os.replace(temporary, path)
        except OSError as exc:
            message = ConfigError(f"{path} could not be written ({exc.strerror or type(exc).__name__}).").user_message
            self.message.setText(message)
            return
        self.message.setText(f"Saved to {path} (SHA-256 {self.record.sha256[:12]}…).")
