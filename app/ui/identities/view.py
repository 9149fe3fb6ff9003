"""Users and Groups tabs: a search box (SCIM filter or plain text), the paged table and a detail pane.

Everything an IdP sent is untrusted: labels use Qt.PlainText, the detail is a QPlainTextEdit, and
table cells go through ``plain()``; nothing here is ever interpreted as rich text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.events import EventBus, ResourcesChanged
from app.services import identities
from app.services.identities import Holding, IdentityDetail, Minimiser, ScimError, name_warning, search_clause
from app.store.vault import Vault
from app.ui.erasure.dialog import ErasureDialog
from app.ui.exports.subject_action import ACTION_TEXT, SubjectExporter
from app.ui.identities.model import ResourceTableModel, plain
from app.ui.lock.reauth import Reauthenticate
from app.ui.page_bound import bind_to_page
from app.ui.times import local_time
from app.ui.urn_text import UrnText
from app.ui.widgets import FittedLabel
from app.ui.workers import submit

SEARCH_DELAY_MS = 400
ROW_HEIGHT = 24


def _flatten(value: Any, path: str) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [line for key, inner in value.items() for line in _flatten(inner, f"{path}.{key}" if path else key)]
    if isinstance(value, list):
        return [line for i, inner in enumerate(value) for line in _flatten(inner, f"{path}[{i}]")]
    if isinstance(value, bool):
        return [(path, "true" if value else "false")]
    # An attribute the identity provider sent empty: not recorded (unknown), not "not needed" (the policy drops
    # what it does not need, so that never shows here at all).
    return [(path, "not recorded (sent empty)" if value is None else str(value))]


def describe(detail: identities.Detail) -> str:
    """Every stored attribute, one ``path: value`` line each, then memberships and meta."""
    lines = [f"id: {detail.id}"]
    lines += [f"{path}: {value}" for path, value in _flatten(detail.document, "") if not path.startswith("schemas")]
    lines += [f"groups[{i}]: {g.label or ''} ({g.id})" for i, g in enumerate(detail.groups)]
    lines += [f"members[{i}]: {m.label or ''} ({m.resource_type} {m.id})" for i, m in enumerate(detail.members)]
    lines += [
        f"schemas: {', '.join(map(str, detail.document.get('schemas', [])))}",
        f"meta.created: {local_time(detail.created)}",
        f"meta.lastModified: {local_time(detail.modified)}",
        f"meta.version: {detail.version}",
    ]
    return "\n".join(plain(line) for line in lines)


def describe_absent(absent: list[str]) -> str:
    """The policy's attributes with no value for this person: unknown (nobody sent one), not "none"."""
    if not absent:
        return ""
    return "\n\nNot recorded (the policy holds these, but no value was received):\n" + "\n".join(
        f"  {plain(path)}: not recorded" for path in absent
    )


def describe_requests(lines: list[str]) -> str:
    """The data subject requests that concern this person (the Requests page has each in full)."""
    if not lines:
        return "\n\nData subject requests: none"
    return "\n\nData subject requests:\n" + "\n".join(f"  {plain(line)}" for line in lines)


def describe_holdings(held: list[Holding]) -> str:
    """Which downstream applications hold this subject, and whether their copy is current."""
    if not held:
        return "\n\nTargets: none configured"
    lines = [f"  {h.target}: {h.state}" + (f" (their id {plain(h.remote_id)})" if h.remote_id else "") for h in held]
    return "\n\nTargets:\n" + "\n".join(lines)


def _plain_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class ResourceBrowser(QWidget):
    def __init__(self, vault: Vault, resource_type: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vault = vault
        self.resource_type = resource_type
        self.model = ResourceTableModel(vault, resource_type, parent=self)
        self._detail_id: str | None = None
        self.held: Callable[[], Minimiser] | None = None  # the policy in force; set by the main window

        self.search = QLineEdit()
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(
            'Search names, e-mail or a filter: userName sw "a"' if resource_type == "User" else "Search group names"
        )
        self.search.setToolTip(
            "Plain text searches the names and e-mail addresses (contains). A SCIM filter such as "
            'userName sw "a" or emails.value ew "@example.org" is used as it is.'
        )
        # Wrapped: a long note (an invalid filter's reason) on one line widened the list, pushed the details into
        # a narrow column and was cut at the window's edge.
        self.search_note = FittedLabel()
        self.count_label = _plain_label()
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DELAY_MS)
        self._debounce.timeout.connect(self.apply_search)
        self.search.textChanged.connect(self._debounce.start)
        self.search.returnPressed.connect(self.apply_search)

        self.table = QTableView()
        self.table.setTabKeyNavigation(False)  # read-only: Tab leaves the table (it walked every cell)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSortIndicator(*self.model.sort_indicator())
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().sortIndicatorChanged.connect(self._sort_indicator_changed)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        # Fixed row height: the view never measures rows, so 100,000 lazily loaded rows stay cheap.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 240)  # user names are long e-mail addresses
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.subject_exporter = SubjectExporter(vault)  # Art. 15/20 export of the selected user
        self.reauthenticate: Reauthenticate | None = None  # set by the main window: asked before an erasure
        self.bus: EventBus | None = None  # set by the main window: the erasure tells the rest of the app
        if resource_type == "User":
            self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            self.table.customContextMenuRequested.connect(self._context_menu)
            self.table.installEventFilter(self)  # the Menu key's menu: see eventFilter

        self.detail_title = _plain_label()
        self.detail = UrnText()  # an extension attribute's schema URN wraps at its colons, not mid-word
        self.detail.setPlaceholderText("Select a row to see every stored attribute.")

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.search)
        left_layout.addWidget(self.search_note)
        left_layout.addWidget(self.table)
        left_layout.addWidget(self.count_label)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.detail_title)
        right_layout.addWidget(self.detail)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QHBoxLayout(self)
        layout.addWidget(splitter)

        self.model.counts_changed.connect(self._show_counts)
        self.model.failed.connect(self.search_note.setText)
        self.model.modelReset.connect(self._clear_detail)

    def _sort_indicator_changed(self, column: int, _order: Qt.SortOrder) -> None:
        if not self.model.sortable(column):  # only indexed columns sort; put the arrow back where it was
            header = self.table.horizontalHeader()
            blocked = header.blockSignals(True)
            header.setSortIndicator(*self.model.sort_indicator())
            header.blockSignals(blocked)

    # -- search --------------------------------------------------------------------------------------
    def apply_search(self) -> None:
        self._debounce.stop()
        try:
            held = self.held() if self.held is not None else None
            where, note = search_clause(self.resource_type, self.search.text(), held)
        except ScimError as exc:  # even the quoted text was refused (e.g. too long)
            self.search_note.setText(exc.detail)
            return
        self.search_note.setText(note)
        self.model.set_filter(where)

    def _show_counts(self, matching: int, total: int) -> None:
        noun = "users" if self.resource_type == "User" else "groups"
        self.count_label.setText(f"{matching:,} of {total:,} {noun}")

    # -- subject export ------------------------------------------------------------------------------
    def _context_menu(self, position: QPoint) -> None:
        """A right-click: the point is the viewport's, the row is the one under the mouse."""
        self._menu_for(self.table.indexAt(position), position)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The Menu key's menu acts on the selected row. Qt gives its point in the table's own coordinates (the
        header included), so the row "under" it was the next one down: Erase… named someone else. Shift+F10
        opens the same menu: laptops have no Menu key, and Qt gives Shift+F10 no meaning on Linux."""
        keyboard_menu = (
            event.type() == QEvent.Type.ContextMenu
            and isinstance(event, QContextMenuEvent)
            and event.reason() == QContextMenuEvent.Reason.Keyboard
        ) or (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_F10
            and event.modifiers() == Qt.KeyboardModifier.ShiftModifier
        )
        if watched is self.table and keyboard_menu:
            index = self.table.currentIndex()
            self._menu_for(index, self.table.visualRect(index).center())
            return True
        return super().eventFilter(watched, event)

    def _menu_for(self, index: QModelIndex, position: QPoint) -> None:
        if not index.isValid():
            return
        row = index.row()
        menu = QMenu(self)
        menu.addAction(ACTION_TEXT, lambda: self.export_subject(row))
        if self.resource_type == "User":
            menu.addAction("&Erase…", lambda: self.erase_subject(row))
        menu.exec(self.table.viewport().mapToGlobal(position))

    def erase_subject(self, row: int) -> ErasureDialog:
        """Art. 17 erasure of this user here and at every application (typed confirmation and passphrase)."""
        dialog = ErasureDialog(self.vault, [self.model.row_id(row)], self.reauthenticate, self.bus, self)
        bound = bind_to_page(dialog, self)  # with the Users page, never over another page (as the reconcile report)
        dialog.finished.connect(lambda _code: bound.release())
        dialog.show()
        # Chosen in the menu, the dialog is shown while the menu still holds the keyboard, and the window system
        # leaves the keyboard with the table: asked again once the menu has closed, the dialog takes it.
        QTimer.singleShot(0, dialog, dialog.activateWindow)
        return dialog

    def export_subject(self, row: int) -> None:
        self.subject_exporter.export(self, self.model.row_id(row))

    # -- detail --------------------------------------------------------------------------------------
    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.show_detail(self.model.row_id(current.row()))

    def show_detail(self, resource_id: str) -> None:
        self._detail_id = resource_id
        vault, resource_type = self.vault, self.resource_type

        submit(lambda: identities.read_detail(vault, resource_type, resource_id), self._detail_loaded,
               self._detail_failed)  # fmt: skip

    def _detail_loaded(self, result: IdentityDetail) -> None:
        resource_id, detail, held, requests = result.resource_id, result.detail, result.holdings, result.requests
        if resource_id != self._detail_id:  # an answer for an earlier selection
            return
        if detail is None:
            self.detail_title.setText("This resource no longer exists.")
            self.detail.clear()
        else:
            title = detail.document.get("userName") or detail.document.get("displayName") or detail.id
            warning = name_warning(detail.document.get("userName"))
            self.detail_title.setText(plain(title) + (f" \u2014 {warning}" if warning else ""))
            text = describe(detail) + describe_absent(result.absent) + describe_holdings(held)
            self.detail.set_text(text + (describe_requests(requests) if requests is not None else ""))

    def _detail_failed(self, _exc: Exception) -> None:
        self.detail_title.setText("The details could not be read from the vault.")

    def _clear_detail(self) -> None:
        self._detail_id = None
        self.detail_title.clear()
        self.detail.clear()

    def apply_changes(self, event: ResourcesChanged) -> None:
        if event.resource_type != self.resource_type:
            return
        self.model.apply_changes(event)
        if self._detail_id in event.deleted:
            self.detail_title.setText("This resource was deleted.")
            self.detail.clear()
            self._detail_id = None
        elif self._detail_id in event.modified or (self._detail_id is not None and event.more_modified):
            self.show_detail(self._detail_id)

    def clear_for_lock(self) -> None:
        """Forget everything shown: rows, detail, and the search (it may be a name): its text, its note and the
        filter made of it. The filter outlived the text: after the unlock an empty box filtered the rows."""
        self._debounce.stop()
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.search_note.setText("")
        self.model.clear()
        self._clear_detail()
        self.count_label.clear()


class IdentitiesView(QTabWidget):
    def __init__(self, vault: Vault, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.users = ResourceBrowser(vault, "User")
        self.groups = ResourceBrowser(vault, "Group")
        self.addTab(self.users, "Users")
        self.addTab(self.groups, "Groups")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Ctrl+Tab from Groups (Ctrl+Shift+Tab from Users) goes on to the next (previous) page of the window. Qt
        gives the key to the innermost tabs, which wrapped round: Ctrl+Tab never left Identities for Policy."""
        control = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        forward, backward = event.key() == Qt.Key.Key_Tab, event.key() == Qt.Key.Key_Backtab
        if control and (
            (forward and self.currentIndex() == self.count() - 1) or (backward and self.currentIndex() == 0)
        ):
            event.ignore()  # on to the window's pages
            return
        super().keyPressEvent(event)

    def apply_changes(self, event: ResourcesChanged) -> None:
        """Slot for EventBridge.resources_changed."""
        self.users.apply_changes(event)
        self.groups.apply_changes(event)

    def clear_for_lock(self) -> None:
        self.users.clear_for_lock()
        self.groups.clear_for_lock()

    def reload(self) -> None:
        self.users.model.reload()
        self.groups.model.reload()
