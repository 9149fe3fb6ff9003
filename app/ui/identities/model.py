"""A lazily paged table of Users or Groups over app.services.identities (app.store.browse's pages).

All SQL runs on the thread pool, one query at a time per model: a page load and the application of live
changes never overlap, so a row committed while a page is in flight is either in that page or placed by the
change that follows it. Sorting and filtering re-query SQL; nothing is sorted or filtered in Python.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from app.core.errors import CustosError
from app.core.events import ResourcesChanged
from app.services import identities
from app.store.vault import Vault
from app.ui.bridge import ChangeSet
from app.ui.times import local_time
from app.ui.workers import submit

ID_ROLE = Qt.ItemDataRole.UserRole + 1
RELOAD_THRESHOLD = 2000  # more changed ids than this: reloading is cheaper than placing rows one by one

# (attribute, header); only userName, displayName and modified are sortable (indexed) columns.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "User": (
        ("userName", "User name"),
        ("displayName", "Display name"),
        ("externalId", "External id"),
        ("active", "Active"),
        ("modified", "Modified"),
    ),
    "Group": (
        ("displayName", "Display name"),
        ("members", "Members"),
        ("externalId", "External id"),
        ("modified", "Modified"),
    ),
}
_SORTABLE: tuple[identities.SortKey, ...] = ("userName", "displayName", "modified")

# Control, zero-width and bidi-override characters: an IdP could use them to disguise a name.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")

AnyIndex = QModelIndex | QPersistentModelIndex


def plain(value: object) -> str:
    """Untrusted text made safe to show on one line; newlines and tabs become visible escapes."""
    text = str(value).replace("\n", "\\n").replace("\r", "\\r").replace("\t", " ")
    return _UNSAFE.sub("\ufffd", text)


def _cell(row: identities.Row, attribute: str) -> str:
    if attribute == "modified":
        return local_time(row.modified)
    if attribute == "members":
        return "" if row.members is None else f"{row.members:,}"
    if attribute == "active":
        return "" if row.active is None else ("yes" if row.active else "no")
    value = {"userName": row.user_name, "displayName": row.display_name, "externalId": row.external_id}[attribute]
    return "" if value is None else plain(value)


class ResourceTableModel(QAbstractTableModel):
    counts_changed = Signal(int, int)  # (matching the filter, all of this type)
    failed = Signal(str)  # a message fit for the UI
    settled = Signal()  # a page or a batch of changes was applied

    def __init__(
        self,
        vault: Vault,
        resource_type: str,
        page_size: int = identities.PAGE_SIZE,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._vault = vault
        self._columns = COLUMNS[resource_type]
        self._page_size = page_size
        self._query = identities.Query(resource_type, "userName" if resource_type == "User" else "displayName")
        self._rows: list[identities.Row] = []
        self._by_id: dict[str, identities.Row] = {}
        self._next: identities.Cursor | None = None
        self._exhausted = False
        self._busy = False  # one query at a time
        self._locked = False  # the UI is locked: nothing loaded, changes ignored until reload()
        self._loading_page = False
        self._want_more = False  # fetchMore asked while changes were being applied
        self._pending = ChangeSet()
        self._generation = 0
        self._count_generation = 0
        self.matching = 0
        self.total = 0
        self.reload()

    # -- Qt model interface --------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's own default
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell(row, self._columns[index.column()][0])
        if role == ID_ROLE:
            return row.id
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(self._columns):
            return self._columns[section][1]
        return None

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008
        if not parent.isValid():
            self._fetch()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        shown = self._columns[column][0] if 0 <= column < len(self._columns) else None
        key = next((sortable for sortable in _SORTABLE if sortable == shown), None)
        if key is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if key == self._query.sort and descending == self._query.descending:
            return
        q = self._query
        self._query = identities.Query(q.resource_type, key, descending, q.where)
        self.reload()

    # -- public API ----------------------------------------------------------------------------------
    @property
    def resource_type(self) -> str:
        return self._query.resource_type

    @property
    def sort_key(self) -> str:
        return self._query.sort

    def sort_indicator(self) -> tuple[int, Qt.SortOrder]:
        column = next(i for i, (attribute, _) in enumerate(self._columns) if attribute == self._query.sort)
        descending = self._query.descending
        return column, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder

    def sortable(self, column: int) -> bool:
        return 0 <= column < len(self._columns) and self._columns[column][0] in _SORTABLE

    def row_id(self, row: int) -> str:
        return self._rows[row].id

    def row_of(self, resource_id: str) -> int | None:
        row = self._by_id.get(resource_id)
        return None if row is None else self._position(row)

    def set_filter(self, where: identities.Where | None) -> None:
        q = self._query
        self._query = identities.Query(q.resource_type, q.sort, q.descending, where)
        self.reload()

    def clear(self) -> None:
        """Drop every loaded row and the filter (made of a search that may be a name) and stop loading (the UI is
        locked); ``reload`` starts again, unfiltered as the emptied search box says."""
        q = self._query
        self._query = identities.Query(q.resource_type, q.sort, q.descending, None)
        self._generation += 1
        self.beginResetModel()
        self._rows, self._by_id = [], {}
        self._next, self._exhausted = None, True
        self._pending = ChangeSet()
        self.endResetModel()
        self._busy = self._loading_page = self._want_more = False
        self._locked = True

    def reload(self) -> None:
        self._locked = False
        self._generation += 1
        self.beginResetModel()
        self._rows, self._by_id = [], {}
        self._next, self._exhausted = None, False
        self._pending = ChangeSet()  # the reload reads the current state anyway
        self.endResetModel()
        self._busy = self._loading_page = self._want_more = False
        self._refresh_counts()
        self._fetch()

    def apply_changes(self, event: ResourcesChanged) -> None:
        """Slot for EventBridge.resources_changed."""
        if event.resource_type != self._query.resource_type or self._locked:
            return  # while locked nothing is loaded; the reload on unlock reads the current state
        self._pending.merge(event)
        if not self._busy:
            self._apply_pending()

    # -- loading -------------------------------------------------------------------------------------
    def _run(self, task: Callable[[], Any], on_result: Callable[[Any], None]) -> None:
        generation = self._generation
        self._busy = True
        submit(lambda: (generation, task()), on_result, self._on_error)

    def _fetch(self) -> None:
        if self._exhausted:
            return
        if self._busy:
            self._want_more = self._want_more or not self._loading_page  # asking twice for one page is one page
            return
        vault, query, after, limit = self._vault, self._query, self._next, self._page_size
        self._loading_page = True
        self._run(lambda: identities.page(vault, query, after, limit), self._on_page)

    def _on_page(self, result: tuple[int, identities.Page]) -> None:
        generation, page = result
        if generation != self._generation:
            return
        self._busy = self._loading_page = False
        fresh = [row for row in page.rows if row.id not in self._by_id]
        if fresh:
            self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(fresh) - 1)
            self._rows.extend(fresh)
            self._by_id.update((row.id, row) for row in fresh)
            self.endInsertRows()
        self._next, self._exhausted = page.next, page.next is None
        self.settled.emit()
        self._continue()

    def _continue(self) -> None:
        if self._pending:
            self._apply_pending()
        elif self._want_more:
            self._want_more = False
            self._fetch()

    def _on_error(self, exc: Exception) -> None:
        self._busy = self._loading_page = False  # a later fetchMore or change may retry
        self._on_count_error(exc)

    def _on_count_error(self, exc: Exception) -> None:
        self.failed.emit(exc.user_message if isinstance(exc, CustosError) else "The vault could not be read.")

    def _refresh_counts(self) -> None:
        self._count_generation += 1
        generation, vault, query = self._count_generation, self._vault, self._query
        submit(lambda: (generation, identities.counts(vault, query)), self._on_counts, self._on_count_error)

    def _on_counts(self, result: tuple[int, tuple[int, int]]) -> None:
        generation, (matching, total) = result
        if generation == self._count_generation:
            self.matching, self.total = matching, total
            self.counts_changed.emit(self.matching, self.total)

    # -- live changes --------------------------------------------------------------------------------
    def _apply_pending(self) -> None:
        changes, self._pending = self._pending, ChangeSet()
        for resource_id in changes.deleted:
            self._remove(resource_id)
        ids = changes.created | changes.modified
        if changes.more_modified or len(ids) > RELOAD_THRESHOLD:  # more changed than the ids name: read them all
            self.reload()
            return
        if not ids:
            self._refresh_counts()
            self.settled.emit()
            self._continue()
            return
        vault, query = self._vault, self._query
        self._run(lambda: (ids, identities.rows_by_ids(vault, query, ids)), self._on_changed_rows)

    def _on_changed_rows(self, result: tuple[int, tuple[set[str], dict[str, identities.Row]]]) -> None:
        generation, (ids, found) = result
        if generation != self._generation:
            return
        self._busy = False
        for resource_id in sorted(ids):
            self._place(self._by_id.get(resource_id), found.get(resource_id))
        self._refresh_counts()
        self.settled.emit()
        self._continue()

    def _place(self, old: identities.Row | None, new: identities.Row | None) -> None:
        if old is not None and new is not None and old.key == new.key:
            position = self._position(old)
            self._rows[position] = self._by_id[new.id] = new
            self.dataChanged.emit(self.index(position, 0), self.index(position, len(self._columns) - 1))
            return
        if old is not None:
            self._remove(old.id)
        if new is not None and self._in_loaded_range(new):
            position = self._lower_bound(new)
            self.beginInsertRows(QModelIndex(), position, position)
            self._rows.insert(position, new)
            self._by_id[new.id] = new
            self.endInsertRows()

    def _remove(self, resource_id: str) -> None:
        row = self._by_id.pop(resource_id, None)
        if row is None:
            return
        position = self._position(row)
        self.beginRemoveRows(QModelIndex(), position, position)
        del self._rows[position]
        self.endRemoveRows()

    def _in_loaded_range(self, row: identities.Row) -> bool:
        # Rows past the last loaded one are left to fetchMore: the keyset cursor will reach them.
        if self._exhausted:
            return True
        cursor = self._next
        return cursor is not None and identities.sorts_before(self._query, (row.key, row.id), (cursor.key, cursor.id))

    def _lower_bound(self, row: identities.Row) -> int:
        low, high, target = 0, len(self._rows), (row.key, row.id)
        while low < high:
            middle = (low + high) // 2
            probe = self._rows[middle]
            if identities.sorts_before(self._query, (probe.key, probe.id), target):
                low = middle + 1
            else:
                high = middle
        return low

    def _position(self, row: identities.Row) -> int:
        position = self._lower_bound(row)
        if position < len(self._rows) and self._rows[position].id == row.id:
            return position
        return next(i for i, candidate in enumerate(self._rows) if candidate.id == row.id)  # defensive
