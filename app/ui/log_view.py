"""The in-app log: this session's log lines, already redacted, to read, filter and copy into a bug report.

Usage (the main window owns the wiring)::

    records = install_log_capture()          # once, at start-up, after logging is configured
    open_log_view(main_window, records)      # View → Log; shows the open dialog again if there is one

Lines arrive on whatever thread logged them. The buffer's callback only emits a Qt signal, queued to the
GUI thread, where a short timer folds bursts into one insertion. The dialog unsubscribes when it is closed
or destroyed; the buffer guarantees that no callback is still running after that.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QCloseEvent, QFont, QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.log_buffer import LogEntry, RecentLogRecords
from app.core.wording import counted
from app.ui.identities.model import plain
from app.ui.table_model import AnyIndex, RowsTableModel
from app.ui.widgets import resize_within_screen

HEADERS = ("Time", "Level", "Source", "Message")
TIME, LEVEL, SOURCE, MESSAGE = range(len(HEADERS))
LEVEL_CHOICES = (("All", logging.NOTSET), ("Info and above", logging.INFO), ("Warnings and errors", logging.WARNING))
FLUSH_MS = 100  # new lines are shown at most this often, whatever the logging rate


def _first_line(message: str) -> str:
    head, newline, _ = message.partition("\n")
    return plain(head) + (" …" if newline else "")


class LogTableModel(RowsTableModel):
    """The entries shown, oldest first, at most ``capacity`` of them (like the buffer behind)."""

    headers = HEADERS

    def __init__(self, capacity: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._capacity = capacity
        self._rows: list[LogEntry] = []

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        entry = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == TIME:
                return entry.created.astimezone().strftime("%H:%M:%S")
            if column == LEVEL:
                return entry.level
            if column == SOURCE:
                return plain(entry.source)
            return _first_line(entry.message)
        if role == Qt.ItemDataRole.FontRole and entry.levelno >= logging.ERROR and column in (LEVEL, MESSAGE):
            font = QFont()
            font.setBold(True)
            return font
        return None

    def entry(self, row: int) -> LogEntry:
        return self._rows[row]

    def append(self, entries: list[LogEntry]) -> None:
        """Add at the end; the oldest rows go when there are more than ``capacity``."""
        entries = entries[-self._capacity :]
        if not entries:
            return
        excess = len(self._rows) + len(entries) - self._capacity
        if excess > 0:
            self.beginRemoveRows(QModelIndex(), 0, excess - 1)
            del self._rows[:excess]
            self.endRemoveRows()
        self.append_rows(entries)

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self.endResetModel()


class LogFilterProxy(QSortFilterProxyModel):
    """Rows at or above a level whose source or message contains a text (case-insensitive)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._min_level = logging.NOTSET
        self._text = ""

    def set_min_level(self, level: int) -> None:
        self._change(lambda: setattr(self, "_min_level", level))

    def set_text(self, text: str) -> None:
        self._change(lambda: setattr(self, "_text", text.strip().casefold()))

    def _change(self, apply: Callable[[], None]) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.9+
            self.beginFilterChange()
            apply()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            apply()
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        model = self.sourceModel()
        assert isinstance(model, LogTableModel)
        entry = model.entry(source_row)
        if entry.levelno < self._min_level:
            return False
        return not self._text or self._text in entry.message.casefold() or self._text in entry.source.casefold()


class _LogBridge(QObject):
    """Carries entries from the logging thread to the GUI thread; emitted from any thread, never blocks."""

    received = Signal(object)  # LogEntry


class LogViewDialog(QDialog):
    """Non-modal; shows the entries of ``records`` and follows new ones while it is open."""

    def __init__(self, records: RecentLogRecords, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Log")
        self.setModal(False)
        resize_within_screen(self, 900, 520)
        self._records = records
        self._unsubscribe: Callable[[], None] | None = None
        self._pending: list[LogEntry] = []

        self.model = LogTableModel(records.capacity, self)
        self.proxy = LogFilterProxy(self)
        self.proxy.setSourceModel(self.model)

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by text or source")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setAccessibleName("Filter")
        self.filter_edit.textChanged.connect(self.proxy.set_text)
        self.level_combo = QComboBox()
        self.level_combo.setAccessibleName("Level")
        for label, level in LEVEL_CHOICES:
            self.level_combo.addItem(label, level)
        self.level_combo.currentIndexChanged.connect(self._level_changed)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)  # dense lines
        header = self.table.horizontalHeader()
        for column in (TIME, LEVEL, SOURCE):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._show_details)

        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("The whole of the selected line")
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)

        self.follow_check = QCheckBox("Follow new lines")
        self.follow_check.setChecked(True)
        self.follow_check.toggled.connect(self._follow_toggled)
        self.count_label = QLabel()
        self.count_label.setTextFormat(Qt.TextFormat.PlainText)
        self.copy_button = QPushButton("Copy visible lines")
        self.copy_button.clicked.connect(self.copy_visible)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        for button in (self.copy_button, self.clear_button, self.close_button):
            button.setAutoDefault(False)  # Enter in the filter field must not press a button

        note = QLabel("This session only, in memory. E-mail and IP addresses, tokens and secrets are removed.")
        note.setTextFormat(Qt.TextFormat.PlainText)
        note.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.level_combo)
        bottom = QHBoxLayout()
        bottom.addWidget(self.follow_check)
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.copy_button)
        bottom.addWidget(self.clear_button)
        bottom.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(note)
        layout.addLayout(bottom)
        self.setTabOrder(self.filter_edit, self.level_combo)
        self.setTabOrder(self.level_combo, self.table)

        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self._flush)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)

        self._attach()
        self.filter_edit.setFocus()

    # -- subscription ----------------------------------------------------------------------------------
    def _attach(self) -> None:
        """Show what the buffer holds and follow it; every entry is either in the snapshot or sent later."""
        if self._unsubscribe is not None:
            return
        bridge = _LogBridge()  # no parent: the callback below keeps it alive for as long as it may emit
        bridge.received.connect(self._receive, Qt.ConnectionType.QueuedConnection)

        def forward(entry: LogEntry) -> None:  # on the logging thread
            bridge.received.emit(entry)

        snapshot, unsubscribe = self._records.snapshot_and_subscribe(forward)
        self._unsubscribe = unsubscribe
        # Destroyed without being closed (its parent went first): stop the callback all the same. The slot
        # holds only the unsubscribe function, not the dialog, so it can run while the dialog is torn down.
        self.destroyed.connect(lambda *_: unsubscribe())
        self.model.clear()
        self._pending.clear()
        self.model.append(snapshot)
        self._scroll_if_following()

    def detach(self) -> None:
        """Stop following the buffer (idempotent); the lines shown stay."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._flush_timer.stop()
        self._pending.clear()

    @property
    def records(self) -> RecentLogRecords:
        return self._records

    @property
    def following(self) -> bool:
        """True while new lines from the buffer are being received."""
        return self._unsubscribe is not None

    def _receive(self, entry: LogEntry) -> None:
        if self._unsubscribe is None:
            return  # queued before the dialog was closed
        self._pending.append(entry)
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def _flush(self) -> None:
        entries, self._pending = self._pending, []
        self.model.append(entries)
        self._scroll_if_following()

    # -- actions ---------------------------------------------------------------------------------------
    def visible_text(self) -> str:
        """The lines that pass the filters, in order, as plain text (already redacted)."""
        lines = []
        for row in range(self.proxy.rowCount()):
            source = self.proxy.mapToSource(self.proxy.index(row, 0))
            lines.append(self.model.entry(source.row()).as_text())
        return "\n".join(lines)

    def copy_visible(self) -> None:
        QGuiApplication.clipboard().setText(self.visible_text())

    def clear(self) -> None:
        """Empty the buffer too, so that reopening the log does not bring the lines back."""
        self._records.clear()
        self._pending.clear()
        self.model.clear()
        self.details.clear()

    def _level_changed(self, index: int) -> None:
        self.proxy.set_min_level(int(self.level_combo.itemData(index)))
        self._scroll_if_following()

    def _follow_toggled(self, checked: bool) -> None:
        if checked:
            self.table.scrollToBottom()

    def _scroll_if_following(self) -> None:
        if self.follow_check.isChecked():
            self.table.scrollToBottom()

    def _show_details(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self.details.clear()
            return
        entry = self.model.entry(self.proxy.mapToSource(current).row())
        self.details.setPlainText(entry.as_text())

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(counted(total, "line") if shown == total else f"{shown} of {counted(total, 'line')}")

    # -- lifetime --------------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        self._attach()  # shown again after being closed: catch up and follow again
        super().showEvent(event)
        self.filter_edit.setFocus()

    def done(self, result: int) -> None:
        self.detach()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.detach()
        super().closeEvent(event)


def open_log_view(parent: QWidget | None, records: RecentLogRecords) -> LogViewDialog:
    """Show the log window for ``records``: the one already open under ``parent``, or a new one.

    The dialog is non-modal and deletes itself when closed.
    """
    if parent is not None:
        for existing in parent.findChildren(LogViewDialog):
            if existing.isVisible() and existing.records is records:
                existing.raise_()
                existing.activateWindow()
                return existing
    dialog = LogViewDialog(records, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog
