"""What authority forms ask beyond Art. 33(3), and the plain-language parts of the Art. 34 communication, edited
in the app: the same fields as ``breach update``, pre-filled, and only what the operator changed is recorded."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.services.incidents import BREACH_TYPES, SPECIAL, IncidentView
from app.ui.incidents.fields import prompt_box

_LINES = (
    ("cause", "Cause"),
    ("discovery", "How it was discovered"),
    ("authority", "Supervisory authority notified"),
    ("lead_authority", "Lead authority (one-stop-shop)"),
    ("other_authorities", "Other authorities told"),
    ("processor", "Processor involved"),
)
_TEXTS = (("subject_summary", "What happened, for the data subjects"), ("subject_advice", "What they can do"))
_UNSET = "not recorded"


class DetailsDialog(QDialog):
    def __init__(self, view: IncidentView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Incident {view.id}: details for the authority and the data subjects")
        self.fields = view.fields
        self.subject_categories = QLineEdit(", ".join(view.fields["subject_categories"]))
        self.subject_categories.setPlaceholderText("e.g. Employees, Contractors")
        self.types = {name: QCheckBox(name) for name in BREACH_TYPES}
        types = QHBoxLayout()
        for name, box in self.types.items():
            box.setChecked(name in view.fields["breach_types"])
            types.addWidget(box)
        self.special = self._combo((_UNSET, *SPECIAL), view.fields["special_categories"])
        cross = view.fields["cross_border"]
        self.cross_border = self._combo((_UNSET, "yes", "no"), None if cross is None else ("yes" if cross else "no"))
        self.lines = {name: QLineEdit(view.fields[name]) for name, _ in _LINES}
        self.texts = {name: prompt_box(text=view.fields[name]) for name, _ in _TEXTS}
        form = QFormLayout()
        form.addRow("Categories of data subjects", self.subject_categories)
        form.addRow("Type of breach", types)
        form.addRow("Special categories (Art. 9/10)", self.special)
        form.addRow("Cross-border processing", self.cross_border)
        for name, label in _LINES:
            form.addRow(label, self.lines[name])
        for name, label in _TEXTS:
            form.addRow(label, self.texts[name])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    @staticmethod
    def _combo(choices: tuple[str, ...], current: str | None) -> QComboBox:
        combo = QComboBox()
        combo.addItems(list(choices))
        combo.setCurrentText(current or _UNSET)
        return combo

    def changes(self) -> dict[str, Any]:
        """Only what differs from the record: an unchanged field is not re-recorded (nor put on the trail)."""
        given: dict[str, Any] = {
            "subject_categories": [p.strip() for p in self.subject_categories.text().split(",") if p.strip()],
            "breach_types": [name for name, box in self.types.items() if box.isChecked()],
            **{name: edit.text().strip() for name, edit in self.lines.items()},
            **{name: edit.toPlainText().strip() for name, edit in self.texts.items()},
        }
        if self.special.currentText() != _UNSET:
            given["special_categories"] = self.special.currentText()
        if self.cross_border.currentText() != _UNSET:
            given["cross_border"] = self.cross_border.currentText() == "yes"
        return {name: value for name, value in given.items() if value != self.fields[name]}


def ask_details(parent: QWidget, view: IncidentView) -> dict[str, Any] | None:
    dialog = DetailsDialog(view, parent)
    return dialog.changes() if dialog.exec() == QDialog.DialogCode.Accepted else None
