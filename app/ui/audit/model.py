"""A lazily paged, newest-first table of audit events over app.audit.query (keyset pages on seq).

Newest first means last written first: the trail's order. A request's entry carries the time it was answered and
is written a little later, in a batch (decision 0034), so its time can be a fraction of a second before the row
under it; the Seq column says the order, the Time column when each thing happened.

Only what is already loaded lives in memory; scrolling asks for the next page in a worker. Opening the page on
a trail of 1,000,000 entries reads one page, whatever the size.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QModelIndex, QObject, Qt, Signal

from app.audit.query import EventFilter, page
from app.audit.trail import StoredEvent
from app.store.vault import Vault
from app.ui.identities.model import plain
from app.ui.table_model import AnyIndex, RowsTableModel
from app.ui.workers import submit

PAGE_SIZE = 500
HEADERS = ("Seq", "Time (UTC)", "Event", "Actor", "Outcome", "Subject (pseudonym)", "Details")

# A typical value per column, to size the columns from the font (app.ui.table_model.size_columns). The event's
# is among the longest the app writes: a shorter one cut "vault.backup_key.destroyed" and "…destroy" to the same
# "vault.backup_key.des…" (the page widens the column further to the longest kind on the trail).
EVENT_COLUMN = 2
COLUMN_SAMPLES = ("0000000", "2026-11-28 21:44:12.364", "vault.backup_key.destroyed", "operator:someone", "success",
                  "0123456789abcdef01")  # fmt: skip


IN_LIST_READ = "(in list read)"  # as `audit tail --subject` says it


def _subject(event: StoredEvent, searched: str | None) -> str:
    """The entry's subject; for a list read the subject filter found (it names the person among those it returned,
    and no subject of its own), the pseudonym searched for and why: an empty cell read as "about no one"."""
    if searched and event.subject != searched:
        return f"{searched} {IN_LIST_READ}"
    return event.subject or ""


def _details(event: StoredEvent) -> str:
    return plain(json.dumps(event.details, sort_keys=True, ensure_ascii=False))[:300]


class AuditTableModel(RowsTableModel):
    headers = HEADERS
    loaded = Signal(int)  # rows now loaded
    failed = Signal(str)

    def __init__(self, vault: Vault, page_size: int = PAGE_SIZE, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._vault = vault
        self._page_size = page_size
        self._rows: list[StoredEvent] = []
        self._filter = EventFilter()
        self._exhausted = False
        self._loading = False
        self._generation = 0  # answers to an older filter are dropped

    # -- Qt model --------------------------------------------------------------------------------------
    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        event = self._rows[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == EVENT_COLUMN:
            return event.kind  # whole, however narrow the operator made the column
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return (
            str(event.seq),
            event.at.replace("T", " ")[:23],
            event.kind,
            plain(event.actor),
            event.outcome,
            _subject(event, self._filter.subject),
            _details(event),
        )[index.column()]

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted or self._loading:
            return
        self._loading = True
        before = self._rows[-1].seq if self._rows else None
        where, generation, size = self._filter, self._generation, self._page_size
        # Bound methods as callbacks (not lambdas): Qt then drops the answer if this model is gone meanwhile.
        submit(lambda: (generation, self._read(where, before, size)), self._append, self._read_failed)

    # -- filtering -------------------------------------------------------------------------------------
    def set_filter(self, where: EventFilter) -> None:
        self.beginResetModel()
        self._filter = where
        self._rows = []
        self._exhausted = False
        self._loading = False
        self._generation += 1
        self.endResetModel()
        self.fetchMore()

    def clear(self) -> None:
        """Forget the loaded rows (the UI is locked); ``set_filter`` loads again."""
        self.beginResetModel()
        self._rows = []
        self._exhausted = True
        self._loading = False
        self._generation += 1
        self.endResetModel()

    def event_at(self, row: int) -> StoredEvent:
        return self._rows[row]

    # -- worker side and answers -----------------------------------------------------------------------
    def _read(self, where: EventFilter, before: int | None, size: int) -> list[StoredEvent]:
        with self._vault.read_connection() as conn:
            return page(conn, where, before, size)

    def _append(self, answer: tuple[int, list[StoredEvent]]) -> None:
        generation, rows = answer
        if generation != self._generation:
            return
        self._loading = False
        if len(rows) < self._page_size:
            self._exhausted = True
        self.append_rows(rows)
        self.loaded.emit(len(self._rows))

    def _read_failed(self, exc: Exception) -> None:
        self._loading = False
        self.failed.emit(getattr(exc, "user_message", "The audit trail could not be read."))
