"""The policy editor's small input widgets, each reading and writing one value of the file as plain Python.

Refilling a field from the file after an edit must not move the cursor under the operator's fingers, so a field
is only rewritten when its value differs from what it already shows (compared as the file reads it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)


def split(text: str) -> list[str]:
    """A comma-separated field as a list: ``"Employees, Contractors"``."""
    return [part.strip() for part in text.split(",") if part.strip()]


def put(field: QLineEdit, value: Any) -> None:
    text = "" if value is None else str(value)
    if field.text().strip() != text.strip():
        field.setText(text)


def put_list(field: QLineEdit, values: Any) -> None:
    items = [str(v) for v in values] if isinstance(values, list) else []
    if split(field.text()) != items:
        field.setText(", ".join(items))


def choose(combo: QComboBox, value: Any) -> None:
    """Select the item whose data is ``value``; a value the list does not offer is added, never silently lost."""
    index = combo.findData(value)
    if index < 0:
        combo.addItem(f"{value} (not a known value)", value)
        index = combo.count() - 1
    if combo.currentIndex() != index:
        combo.setCurrentIndex(index)


def combo(choices: Iterable[tuple[str, str]]) -> QComboBox:
    box = QComboBox()
    for value, label in choices:
        box.addItem(label, value)
    return box


class CheckList(QListWidget):
    """Ids to tick (purposes, catalogue attributes): Space ticks the current one, as in any list."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.itemChanged.connect(lambda _item: self.changed.emit())
        self.setMaximumHeight(self.fontMetrics().height() * 6)

    def set_choices(self, choices: Iterable[tuple[str, str]], checked: Iterable[str]) -> None:
        """``choices`` are (id, label); a ticked id the choices lack is listed too, so saving keeps it."""
        wanted = list(checked)
        pairs = list(choices)
        known = {value for value, _label in pairs}
        pairs += [(value, f"{value} (not declared)") for value in wanted if value not in known]
        if [(self.item(i).data(Qt.ItemDataRole.UserRole), self.item(i).text()) for i in range(self.count())] == (
            pairs
        ) and self.checked() == [v for v, _l in pairs if v in wanted]:
            return
        self.blockSignals(True)
        current = self.currentRow()
        self.clear()
        for value, label in pairs:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, value)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if value in wanted else Qt.CheckState.Unchecked)
            self.addItem(item)
        self.setCurrentRow(min(max(current, 0), self.count() - 1))
        self.blockSignals(False)

    def checked(self) -> list[str]:
        return [
            str(self.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.count())
            if self.item(i).checkState() == Qt.CheckState.Checked
        ]

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Space and self.currentItem() is not None:
            item = self.currentItem()
            checked = item.checkState() == Qt.CheckState.Checked
            item.setCheckState(Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked)
            return
        super().keyPressEvent(event)


class RetentionField(QWidget):
    """``{ period = "P30D", justification = "…" }``: a period (or "account", "indefinite") and why."""

    changed = Signal()

    def __init__(self, account_allowed: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.period = QLineEdit()
        self.period.setPlaceholderText('"P30D", "P1Y"' + (', "account"' if account_allowed else "") + ', "indefinite"')
        self.period.setAccessibleName("Retention period")
        self.justification = QLineEdit()
        self.justification.setPlaceholderText("Why this long (the legal or business reason)")
        self.justification.setAccessibleName("Retention justification")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.period, 2)
        layout.addWidget(self.justification, 3)
        for field in (self.period, self.justification):
            field.textEdited.connect(lambda _text: self.changed.emit())
        self.setFocusProxy(self.period)

    def fill(self, raw: Any) -> None:
        if isinstance(raw, str):
            raw = {"period": raw}
        raw = raw if isinstance(raw, Mapping) else {}
        put(self.period, raw.get("period", ""))
        put(self.justification, raw.get("justification", ""))

    def value(self) -> dict[str, str]:
        return {"period": self.period.text().strip(), "justification": self.justification.text().strip()}


class ScopeField(QWidget):
    """Whom a recipient receives: ``"all"``, or ``{ groups = [...], filter = "..." }`` (both: members who match)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.everyone = QRadioButton("&Every user")
        self.some = QRadioButton("Onl&y these users (both given: members who match):")
        group = QButtonGroup(self)
        group.addButton(self.everyone)
        group.addButton(self.some)
        self.everyone.setChecked(True)
        self.groups = QLineEdit()
        self.groups.setPlaceholderText("Members of these groups (display names, commas between)")
        self.groups.setAccessibleName("Scope groups")
        self.filter = QLineEdit()
        self.filter.setPlaceholderText('Users matching a SCIM filter, e.g. title eq "Engineer"')
        self.filter.setAccessibleName("Scope filter")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.everyone)
        layout.addWidget(self.some)
        layout.addWidget(self.groups)
        layout.addWidget(self.filter)
        self.some.toggled.connect(self._toggled)
        for field in (self.groups, self.filter):
            field.textEdited.connect(lambda _text: self.changed.emit())
        self._toggled(False, emit=False)

    def _toggled(self, some: bool, emit: bool = True) -> None:
        self.groups.setEnabled(some)
        self.filter.setEnabled(some)
        if emit:
            self.changed.emit()

    def fill(self, raw: Any) -> None:
        scoped = isinstance(raw, Mapping)
        self.blockSignals(True)
        (self.some if scoped else self.everyone).setChecked(True)
        self._toggled(scoped, emit=False)
        put_list(self.groups, raw.get("groups", []) if scoped else [])
        put(self.filter, raw.get("filter", "") if scoped else "")
        self.blockSignals(False)

    def value(self) -> str | dict[str, Any]:
        if self.everyone.isChecked():
            return "all"
        return {"groups": split(self.groups.text()), "filter": self.filter.text().strip()}
