"""Read-only table models for the Policy page: the attribute catalogue and the version history.

Both are filled from data a worker has already read and parsed; they never touch the vault themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from app.policy.model import ART9_CONDITIONS, AttributeRule, Policy
from app.services.policy import PolicyRecord
from app.ui.times import local_time

AnyIndex = QModelIndex | QPersistentModelIndex
SHORT_SHA = 12


def short_sha(sha256: str) -> str:
    return sha256[:SHORT_SHA]


def _names(ids: Sequence[str], lookup: dict[str, str]) -> str:
    return ", ".join(lookup.get(i, i) for i in ids)


def special_text(rule: AttributeRule) -> str:
    if not rule.special:
        return "No"
    condition = ART9_CONDITIONS.get(rule.art9_condition, rule.art9_condition or "condition missing")
    return f"Yes: {condition}"


def catalogue_rows(policy: Policy) -> list[tuple[str, ...]]:
    """One row of plain text per attribute rule, in the order of the file (which is how operators think of it)."""
    purposes = {p.id: p.name for p in policy.purposes}
    rows: list[tuple[str, ...]] = []
    for rule in policy.attributes:
        category = policy.category(rule.category)
        recipients = policy.recipients_of(rule)
        rows.append(
            (
                rule.label,
                rule.resource_type,
                category.name if category else rule.category,
                _names(rule.purposes, purposes),
                special_text(rule),
                policy.retention_of(rule).describe(),
                ", ".join(r.name for r in recipients) if recipients else "None",
            )
        )
    return rows


class _TextTable(QAbstractTableModel):
    HEADERS: tuple[str, ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[str, ...]] = []

    def set_rows(self, rows: list[tuple[str, ...]]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._rows[index.row()][index.column()]
        return None

    def row_values(self, row: int) -> tuple[str, ...]:
        return self._rows[row]


class CatalogueModel(_TextTable):
    HEADERS = ("Attribute", "Resource type", "Data category", "Purposes", "Special category", "Retention", "Recipients")

    def set_policy(self, policy: Policy) -> None:
        self.set_rows(catalogue_rows(policy))


class HistoryModel(_TextTable):
    HEADERS = ("Version", "Applied at", "Operator", "SHA-256")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.records: list[PolicyRecord] = []

    def set_records(self, records: list[PolicyRecord]) -> None:
        """Newest first: the version in force heads the list."""
        self.records = sorted(records, key=lambda r: r.version, reverse=True)
        self.set_rows(
            [(f"v{r.version}", local_time(r.applied_at), r.operator, short_sha(r.sha256)) for r in self.records]
        )

    def record(self, row: int) -> PolicyRecord:
        return self.records[row]

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if index.isValid() and role == Qt.ItemDataRole.FontRole and index.row() == 0:
            font = QFont()
            font.setBold(True)  # the version in force
            return font
        if index.isValid() and role == Qt.ItemDataRole.ToolTipRole and index.column() == 3:
            return self.records[index.row()].sha256
        return super().data(index, role)
