"""What every read-only table of rows in the app shares: row and column counts, and its header titles."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QTableView

AnyIndex = QModelIndex | QPersistentModelIndex


class RowsTableModel(QAbstractTableModel):
    """Rows in ``self._rows``, one column per title in ``headers``; subclasses say what a cell shows (``data``)."""

    headers: tuple[str, ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's default argument
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers[section]
        return None

    def append_rows(self, rows: list[Any]) -> None:
        """Add rows at the end, telling the views (a page that arrived, new log lines)."""
        if rows:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()


def size_columns(table: QTableView, samples: tuple[str, ...], headers: tuple[str, ...]) -> None:
    """Widths from the font and a typical value per column, not from the rows: measuring a million rows would
    freeze the window."""
    metrics = table.fontMetrics()
    header = table.horizontalHeader()
    for column, sample in enumerate(samples):
        wanted = max(metrics.horizontalAdvance(sample), metrics.horizontalAdvance(headers[column]))
        header.resizeSection(column, wanted + 3 * metrics.averageCharWidth())
