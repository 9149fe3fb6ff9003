"""An evidence bundle opened read-only, without a vault: its verdict, its facts, its entries.

Incident responders review a breach timeline from the bundle ``custos audit export`` wrote, on any machine. The
window verifies the bundle (app.audit.bundle.verify_bundle) and reads it (app.audit.bundle_read) on the thread
pool; the entries arrive a page at a time as the table is scrolled. Nothing here touches a vault, and nothing
sealed is opened: a bundle holds no keys.

Worker jobs are ``functools.partial`` of plain functions and plain objects (a path, an ``EntryPages``); answers
come back to bound methods, so no Qt object is referenced from a pool thread and no lambda ties a widget to
itself.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.audit.bundle import split_proved, verify_bundle
from app.audit.bundle_read import BundleContents, EntryPages, detail_text, fact_lines, read_bundle
from app.audit.pseudonyms import SEALED, public_details
from app.audit.trail import StoredEvent
from app.audit.verify import VerifyReport
from app.core.wording import counted
from app.ui.audit.model import COLUMN_SAMPLES, HEADERS
from app.ui.identities.model import plain
from app.ui.policy.common import user_message
from app.ui.table_model import AnyIndex, RowsTableModel, size_columns
from app.ui.theme import tint
from app.ui.widgets import documents_dir, resize_within_screen, text_label
from app.ui.workers import submit

PAGE_SIZE = 500
FILE_FILTER = "Evidence bundles (*.zip)"
READING_TEXT = "Reading the bundle…"
VERIFYING_TEXT = "Verifying the bundle…"


def _page(pages: EntryPages, size: int, generation: int) -> tuple[int, list[StoredEvent]]:
    """The worker's side of one page (module level: its closure holds no Qt object)."""
    return generation, pages.next_page(size)


def _cells(event: StoredEvent) -> tuple[str, ...]:
    # As on the audit page, but the sealed ciphertext (unreadable here) is only marked as present.
    details = json.dumps(public_details(event.details), sort_keys=True, ensure_ascii=False)
    if SEALED in event.details:
        details = f"[sealed] {details}"
    return (
        str(event.seq),
        plain(event.at.replace("T", " ")[:23]),
        plain(event.kind),
        plain(event.actor),
        plain(event.outcome),
        plain(event.subject or ""),
        plain(details)[:300],
    )


class BundleEntriesModel(RowsTableModel):
    """The bundle's entries in file order, loaded a page at a time in a worker as the view asks for more."""

    headers = HEADERS

    loaded = Signal(int)  # rows now loaded
    failed = Signal(str)

    def __init__(self, page_size: int = PAGE_SIZE, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._page_size = page_size
        self._pages: EntryPages | None = None
        self._rows: list[StoredEvent] = []
        self._loading = False
        # Set here when the short last page arrives: the reader closes itself on the worker thread earlier.
        self._exhausted = False
        self._generation = 0  # answers for a reader that was replaced or closed are dropped

    # -- Qt model --------------------------------------------------------------------------------------
    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        return _cells(self._rows[index.row()])[index.column()]

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._pages is not None and not self._exhausted and not self._loading

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent) or self._pages is None:
            return
        self._loading = True
        submit(functools.partial(_page, self._pages, self._page_size, self._generation), self._append, self._failed)

    # -- the reader ------------------------------------------------------------------------------------
    def open(self, pages: EntryPages) -> None:
        self.close()
        self.beginResetModel()
        self._pages = pages
        self._rows = []
        self._exhausted = False
        self.endResetModel()
        self.fetchMore()

    def close(self) -> None:
        """Stop reading (the window closes): waits for a page being read, then the file is closed."""
        pages, self._pages = self._pages, None
        self._generation += 1
        self._loading = False
        self._exhausted = True
        if pages is not None:
            pages.close()

    @property
    def complete(self) -> bool:
        """Every entry is loaded (or reading stopped)."""
        return self._exhausted

    def event_at(self, row: int) -> StoredEvent:
        return self._rows[row]

    def _append(self, answer: tuple[int, list[StoredEvent]]) -> None:
        generation, rows = answer
        if generation != self._generation:
            return
        self._loading = False
        self._exhausted = len(rows) < self._page_size
        self.append_rows(rows)
        self.loaded.emit(len(self._rows))

    def _failed(self, exc: Exception) -> None:
        self._loading = False
        self._exhausted = True  # the reader closed itself: what is loaded is all there is
        self.failed.emit(user_message(exc, "The entries of the bundle could not be read."))


class EntryFilter(QSortFilterProxyModel):
    """Rows whose event type starts with one text and whose subject pseudonym contains another (any case)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._kind = ""
        self._subject = ""

    def set_criteria(self, kind_prefix: str, subject: str) -> None:
        self.beginFilterChange()
        self._kind, self._subject = kind_prefix.strip().casefold(), subject.strip().casefold()
        self.endFilterChange()

    @property
    def active(self) -> bool:
        return bool(self._kind or self._subject)

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        source = self.sourceModel()
        if not isinstance(source, BundleEntriesModel):
            return True
        event = source.event_at(source_row)
        if self._kind and not event.kind.casefold().startswith(self._kind):
            return False
        return not self._subject or self._subject in (event.subject or "").casefold()


class BundleWindow(QDialog):
    """One evidence bundle, read-only. Non-modal: several can be open beside the main window."""

    def __init__(
        self,
        path: Path,
        contents: BundleContents | None = None,
        parent: QWidget | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.contents: BundleContents | None = None
        self.report: VerifyReport | None = None
        self.setWindowTitle(f"Evidence bundle — {self.path.name}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # the rows go with the window
        self.setSizeGripEnabled(True)

        self.verdict = text_label(VERIFYING_TEXT, selectable=True)
        self.verdict.setAccessibleName("Verification verdict")
        font = self.verdict.font()
        font.setBold(True)
        self.verdict.setFont(font)
        self.verdict_more = text_label("", selectable=True)
        self.verdict_more.hide()
        self.reading = text_label(READING_TEXT, selectable=True)
        self.facts = QFormLayout()
        self.fact_labels: dict[str, QLabel] = {}

        self.kind_filter = QLineEdit()
        self.kind_filter.setPlaceholderText("e.g. scim. or policy.applied")
        self.kind_filter.setAccessibleName("Event type starts with")
        self.kind_filter.setClearButtonEnabled(True)
        self.subject_filter = QLineEdit()
        self.subject_filter.setPlaceholderText("Subject pseudonym contains")
        self.subject_filter.setAccessibleName("Subject pseudonym contains")
        self.subject_filter.setClearButtonEnabled(True)
        self.count_label = QLabel("")
        kind_label = QLabel("Event &type starts with")
        kind_label.setBuddy(self.kind_filter)
        subject_label = QLabel("&Subject")
        subject_label.setBuddy(self.subject_filter)

        self.model = BundleEntriesModel(page_size, parent=self)
        self.proxy = EntryFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)  # one line per entry: more of the timeline in sight
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAccessibleName("Entries of the evidence bundle")
        self._size_columns()
        self.detail = QPlainTextEdit()
        self.detail.setReadOnly(True)
        self.detail.setAccessibleName("Details of the selected entry")
        self.detail.setPlaceholderText("Select an entry to see its details.")
        self.detail.setTabChangesFocus(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close = self.buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAutoDefault(False)  # Enter in a filter field must not close the window
        close.setDefault(False)
        self.buttons.rejected.connect(self.reject)

        filters = QHBoxLayout()
        filters.addWidget(kind_label)
        filters.addWidget(self.kind_filter, 1)
        filters.addWidget(subject_label)
        filters.addWidget(self.subject_filter, 1)
        filters.addWidget(self.count_label)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.verdict)
        layout.addWidget(self.verdict_more)
        layout.addWidget(self.reading)
        layout.addLayout(self.facts)
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.buttons)
        QWidget.setTabOrder(self.kind_filter, self.subject_filter)
        QWidget.setTabOrder(self.subject_filter, self.table)
        QWidget.setTabOrder(self.table, self.detail)
        QWidget.setTabOrder(self.detail, close)
        self.kind_filter.setFocus()
        resize_within_screen(self, 1100, 760)

        self.kind_filter.textChanged.connect(self._filter_changed)
        self.subject_filter.textChanged.connect(self._filter_changed)
        self.model.loaded.connect(self._loaded)
        self.model.failed.connect(self._entries_failed)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.finished.connect(self._stop_reading)

        submit(functools.partial(verify_bundle, self.path), self._verified, self._verify_failed)
        if contents is not None:
            self._read(contents)
        else:
            submit(functools.partial(read_bundle, self.path), self._read, self._read_failed)

    # -- answers from the pool -------------------------------------------------------------------------
    def _verified(self, report: VerifyReport) -> None:
        self.report = report
        self.verdict.setText(report.summary("Evidence bundle"))
        tint(self.verdict, "ok" if report.ok else "error")
        more = [f"Also: {breach.render()}" for breach in report.breaches[1:6]]
        if len(report.breaches) > 6:
            more.append(f"Also: {counted(len(report.breaches) - 6, 'more problem')}")
        proved, not_proved = split_proved(report.proved)  # what was checked, and what was not
        more += [f"Proved: {statement}" for statement in proved]
        more += [f"Not proved: {statement} (not the whole trail)" for statement in not_proved]
        more += [f"Not proved: {statement}" for statement in report.assumed]
        more += [f"Note: {note}" for note in report.notes]
        self.verdict_more.setText("\n".join(more))
        self.verdict_more.setVisible(bool(more))

    def _verify_failed(self, exc: Exception) -> None:
        self.verdict.setText(user_message(exc, "The bundle could not be verified."))
        tint(self.verdict, "error")

    def _read(self, contents: BundleContents) -> None:
        self.contents = contents
        self.reading.hide()
        for label, value in fact_lines(contents.facts):
            shown = text_label(plain(value), selectable=True)
            self.fact_labels[label] = shown
            self.facts.addRow(f"{label}:", shown)
        self.model.open(contents.pages())

    def _read_failed(self, exc: Exception) -> None:
        self.reading.setText(user_message(exc, "The bundle could not be read."))
        tint(self.reading, "error")

    def _loaded(self, _rows: int) -> None:
        self._update_count()
        self._keep_filling()

    def _entries_failed(self, message: str) -> None:
        self.count_label.setText(message)

    # -- filtering and the detail pane -----------------------------------------------------------------
    def _filter_changed(self, _text: str) -> None:
        self.proxy.set_criteria(self.kind_filter.text(), self.subject_filter.text())
        self._update_count()
        self._keep_filling()

    def _keep_filling(self) -> None:
        """Load on while the last shown row is in sight (Qt's own rule), also when a filter hides a whole page.

        The view asks for more only when rows are added to it; a page the filter hides adds none.
        """
        if not self.model.canFetchMore():
            return
        rows = self.proxy.rowCount()
        if rows == 0 or self.table.viewport().rect().intersects(self.table.visualRect(self.proxy.index(rows - 1, 0))):
            self.model.fetchMore()

    def _update_count(self, *_args: object) -> None:
        loaded, shown = self.model.rowCount(), self.proxy.rowCount()
        more = "" if self.model.complete else ", more as you scroll"
        if self.proxy.active:
            self.count_label.setText(f"{shown:,} of {loaded:,} loaded entries match{more}")
        else:
            self.count_label.setText(f"{loaded:,} entries loaded{more}")

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self.detail.clear()
            return
        event = self.model.event_at(self.proxy.mapToSource(current).row())
        # Bundle contents are untrusted: control and bidi characters are made visible, line by line.
        self.detail.setPlainText("\n".join(plain(line) for line in detail_text(event).splitlines()))

    def _size_columns(self) -> None:
        size_columns(self.table, COLUMN_SAMPLES, HEADERS)

    def _stop_reading(self, _result: int) -> None:
        self.model.close()


def open_bundle_window(parent: QWidget | None, path: Path) -> BundleWindow:
    """Open the bundle at ``path`` in its own window, shown at once; it reads and verifies in the background.

    Needs no vault. A file that is not a readable bundle is said so in the window. With no ``parent``, the caller
    keeps the returned window referenced; it is deleted when closed.
    """
    window = BundleWindow(Path(path), parent=parent)
    window.show()
    window.raise_()
    window.activateWindow()
    return window


def choose_and_open_bundle(parent: QWidget | None) -> BundleWindow | None:
    """Ask for an evidence bundle file and open it (Records → "Open an evidence bundle…"); None if cancelled."""
    chosen, _filter = QFileDialog.getOpenFileName(parent, "Open an evidence bundle", documents_dir(), FILE_FILTER)
    if not chosen:
        return None
    return open_bundle_window(parent, Path(chosen))


def view_bundle(contents: BundleContents, argv: Sequence[str] | None = None) -> int:
    """``custos audit view-bundle``: the window alone, until it is closed. No vault, no server."""
    from app.ui.run import application  # the app's set-up: theme, and cycles collected on the GUI thread

    app = application(argv if argv is not None else sys.argv[:1])
    window = BundleWindow(contents.path, contents=contents)
    # Closing it quits (quitOnLastWindowClosed). No quit() of our own on top: a second one stays queued and
    # ends whichever event loop runs next.
    window.show()
    try:
        return app.exec()
    finally:
        QThreadPool.globalInstance().waitForDone()  # a verification may still be running
